using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GanService.Api.Tests;

/// <summary>Helpers shared by the API contract tests: API keys (through the CLI or straight into the table), raw requests, link signing.</summary>
public static class TestHelpers
{
    public sealed record CreatedKey(Guid Id, string Key);

    /// <summary>Runs the Workers CLI as a real process against this host's database; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunWorkersCliAsync(
        this ServiceHost host, string arguments, IReadOnlyDictionary<string, string>? extraEnv = null)
    {
        var log = Path.Combine(host.Scratch, $"cli-{Guid.NewGuid():N}.log");
        using var cli = new ServiceProcess(ServiceHost.Bin("GanService.Workers"), arguments, host.Env(extraEnv), log);
        int code = await cli.WaitForExitAsync(TimeSpan.FromSeconds(90));
        return (code, cli.Log());
    }

    /// <summary><c>keys create --name N --scopes S</c>: the id and the key it printed.</summary>
    public static async Task<CreatedKey> CreateKeyWithCliAsync(this ServiceHost host, string name, string scopes = "jobs")
    {
        var (code, output) = await host.RunWorkersCliAsync($"keys create --name {name} --scopes {scopes}");
        Assert.True(code == 0, $"keys create exited {code}:\n{output}");
        var id = Regex.Match(output, @"^id\s+([0-9a-fA-F-]{36})\s*$", RegexOptions.Multiline);
        var key = Regex.Match(output, @"^key\s+(gsk_\S+)\s*$", RegexOptions.Multiline);
        Assert.True(id.Success && key.Success, "keys create printed no id/key:\n" + output);
        return new CreatedKey(Guid.Parse(id.Groups[1].Value), key.Groups[1].Value);
    }

    /// <summary>Inserts an API key row directly (hash = lowercase hex sha256 of the key), e.g. one with no scopes at all.</summary>
    public static async Task<CreatedKey> InsertKeyAsync(this ServiceHost host, string name, params string[] scopes)
    {
        var key = "gsk_" + Guid.NewGuid().ToString("N");
        var id = Guid.NewGuid();
        await host.ExecuteAsync(
            "INSERT INTO api_keys (id, name, prefix, hash, scopes, created_at) VALUES (@id, @name, @prefix, @hash, @scopes, now())",
            ("id", id), ("name", name), ("prefix", key[..8]), ("hash", Sha256Hex(key)), ("scopes", scopes));
        return new CreatedKey(id, key);
    }

    public static async Task<Guid> KeyIdAsync(this ServiceHost host, string key) =>
        await host.ScalarAsync<Guid>("SELECT id FROM api_keys WHERE hash = @hash", ("hash", Sha256Hex(key)));

    public static async Task<long> JobCountAsync(this ServiceHost host) =>
        await host.ScalarAsync<long>("SELECT count(*) FROM jobs");

    public static string Sha256Hex(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    /// <summary>Any request, any content; the body parsed as JSON when it is JSON.</summary>
    public static async Task<(HttpResponseMessage Response, JsonElement Body)> SendAsync(
        this HttpClient client, HttpMethod method, string path, HttpContent? content = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        var response = await client.SendAsync(request);
        return (response, await Http.ReadAsync(response));
    }

    public static Task<(HttpResponseMessage Response, JsonElement Body)> PostEmptyAsync(this HttpClient client, string path) =>
        client.SendAsync(HttpMethod.Post, path);

    /// <summary>Asserts a 4xx problem+json whose <c>errors</c> holds at least one entry (whatever its key).</summary>
    public static void AssertProblemWithErrors(HttpResponseMessage response, JsonElement body, HttpStatusCode status)
    {
        Http.AssertProblem(response, body, status);
        Assert.True(body.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object && errors.EnumerateObject().Any(),
            $"expected the problem to carry errors: {body}");
    }

    /// <summary>The file link the service would issue for <paramref name="key"/> expiring at <paramref name="exp"/> (UrlSigner's scheme, recomputed here).</summary>
    public static string SignedPath(string key, long exp)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(ServiceHost.SigningKey), Encoding.UTF8.GetBytes($"{key}\n{exp}"));
        var sig = Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"/files/{key}?exp={exp}&sig={sig}";
    }

    /// <summary>Splits an output url into its blob key, exp and sig.</summary>
    public static (string Key, long Exp, string Sig) ParseFileUrl(string url)
    {
        var uri = new Uri(url);
        Assert.StartsWith("/files/", uri.AbsolutePath);
        var query = uri.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1]));
        return (uri.AbsolutePath["/files/".Length..], long.Parse(query["exp"]), query["sig"]);
    }

    /// <summary>Cancels every queued or running job of the client's key (fuzz and paging tests leave none behind for later tests to wait on).</summary>
    public static async Task CancelUnfinishedAsync(this HttpClient client)
    {
        foreach (var status in new[] { "queued", "running" })
        {
            var (_, page) = await client.GetJsonAsync($"/v1/jobs?status={status}&limit=100");
            foreach (var job in page.GetProperty("items").EnumerateArray())
                await client.PostEmptyAsync($"/v1/jobs/{job.GetProperty("id").GetString()}/cancel");
        }
    }
}
