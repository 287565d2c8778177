using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace GanService.Api.Tests;

/// <summary>
/// Every operation in the API's own OpenAPI document, sent hostile input: each path, query and header parameter in
/// turn given malformed, oversized, wrong-typed and boundary values; JSON bodies fuzzed (seeded) and sent oversized,
/// empty, as random bytes and under the wrong content type; multipart bodies broken; no key and malformed keys.
/// Every answer must be 2xx or a 4xx problem+json (status in the body matching), never a 5xx; the only jobs written
/// are the ones answered 2xx; afterwards the service is ready and still generates.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class HostileInputSweepTests(ServiceHost host, ITestOutputHelper output)
{
    private static readonly string[] HostileSegments =
    [
        "not-a-guid", "00000000-0000-0000-0000-000000000000", new('a', 2000), "..%2F..%2Fetc%2Fpasswd", "%FF%FE",
        "'%20OR%20'1'%3D'1", "%F0%9F%98%80", "%20", "%7Bid%7D", "-1", "99999999999999999999",
    ];

    private static readonly string[] HostileValues =
    [
        "abc", "-1", "0", "99999999999999999999", "1e400", "", "%00", "%FF", "null", "%5B%5D", "1.5", new('x', 2000),
        "'%20OR%201%3D1%20--", "%0D%0AX-Injected:%201",
    ];

    private static readonly string[] HostileHeaders =
    [
        "abc", "-1", "0", "99999999999999999999", "1e400", "1.5", "   ", new('x', 2000), "wait=abc", "wait=-1",
        "wait=99999999999999999999", "wait=1e400", "\"quoted\"", "a,b,c",
    ];

    private sealed record Operation(string Method, string Path, JsonElement Spec);

    private readonly List<string> failures = [];
    private readonly SortedDictionary<int, int> statuses = [];
    private readonly HashSet<Guid> acceptedJobs = [];
    private int sent;

    [Fact]
    public async Task Every_endpoint_answers_hostile_input_with_4xx_problems_never_5xx_writes_no_job_it_refused_and_stays_healthy()
    {
        var key = await host.InsertKeyAsync("sweep", "jobs", "admin");
        using var client = host.NewClient(key.Key);
        using var anonymous = host.NewClient(null);
        var (_, doc) = await client.GetJsonAsync("/swagger/v1/swagger.json");
        var operations = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete")
                .Select(m => new Operation(m.Name.ToUpperInvariant(), p.Name, m.Value)))
            .ToList();
        Assert.True(operations.Count >= 15, $"the OpenAPI document lists only {operations.Count} operations");
        var rng = new Random(20261128);

        foreach (var op in operations)
        {
            var method = new HttpMethod(op.Method);
            var parameters = op.Spec.TryGetProperty("parameters", out var ps) ? ps.EnumerateArray().ToList() : [];
            string Url(string? hostileParam = null, string? hostile = null)
            {
                var path = op.Path;
                foreach (var p in parameters.Where(p => p.GetProperty("in").GetString() == "path"))
                {
                    var name = p.GetProperty("name").GetString()!;
                    path = path.Replace("{" + name + "}", name == hostileParam ? hostile : PlausiblePathValue(name, p));
                }
                if (hostileParam is not null && parameters.Any(p => p.GetProperty("in").GetString() == "query" && p.GetProperty("name").GetString() == hostileParam))
                    path += $"?{hostileParam}={hostile}";
                return path;
            }
            HttpContent? PlausibleBody() => BodyFuzzerFor(op.Path) is null && !HasJsonBody(op) ? null
                : Http.Json(op.Path == "/v1/trainings" ? """{"dataset":"fashion-mnist","stableKimg":0.05,"fadeKimg":0.016,"evaluate":false}""" : "{}");

            foreach (var p in parameters)
            {
                var name = p.GetProperty("name").GetString()!;
                switch (p.GetProperty("in").GetString())
                {
                    case "path":
                        foreach (var v in HostileSegments) await SendAsync(client, $"{op.Method} {op.Path} {name}={Short(v)}", method, Url(name, v), PlausibleBody());
                        break;
                    case "query":
                        foreach (var v in HostileValues) await SendAsync(client, $"{op.Method} {op.Path} ?{name}={Short(v)}", method, Url(name, v), PlausibleBody());
                        break;
                    case "header":
                        foreach (var v in HostileHeaders) await SendAsync(client, $"{op.Method} {op.Path} {name}: {Short(v)}", method, Url(), PlausibleBody(), (name, v));
                        break;
                }
            }

            if (op.Method == "POST")
            {
                foreach (var v in HostileHeaders.Where(h => h.StartsWith("wait=", StringComparison.Ordinal)).Append("wait=0").Append("respond-async, wait=1"))
                    await SendAsync(client, $"POST {op.Path} Prefer: {v}", method, Url(), PlausibleBody(), ("Prefer", v));
                await SendAsync(client, $"POST {op.Path} 70 KiB JSON", method, Url(), Http.Json("{\"x\":\"" + new string('a', 70 * 1024) + "\"}"));
                await SendAsync(client, $"POST {op.Path} text/plain", method, Url(), Http.Json("{}", "text/plain"));
                await SendAsync(client, $"POST {op.Path} application/xml", method, Url(), Http.Json("<a/>", "application/xml"));
                var random = new byte[rng.Next(1, 4096)];
                rng.NextBytes(random);
                await SendAsync(client, $"POST {op.Path} random bytes as JSON", method, Url(), Bytes(random, "application/json"));
                await SendAsync(client, $"POST {op.Path} empty JSON body", method, Url(), Bytes([], "application/json"));
            }
            if (BodyFuzzerFor(op.Path) is { } fuzzer)
                for (int i = 0; i < 60; i++)
                {
                    var (description, content) = fuzzer.Next(rng);
                    await SendAsync(client, $"POST {op.Path} fuzz #{i} {description}", method, Url(), content);
                }
            if (HasMultipartBody(op))
                foreach (var (description, content) in BrokenMultiparts(rng))
                    await SendAsync(client, $"POST {op.Path} {description}", method, Url(), content);

            // Credentials: none, a malformed scheme, an absurd token, an unknown key.
            bool open = op.Path.StartsWith("/health", StringComparison.Ordinal) || op.Path.StartsWith("/files", StringComparison.Ordinal)
                || op.Path.StartsWith("/swagger", StringComparison.Ordinal);
            foreach (var auth in new[] { null, "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer " + new string('k', 3000), "Bearer gsk_" + Guid.NewGuid().ToString("N"), "Bearer" })
            {
                var answer = await SendAsync(anonymous, $"{op.Method} {op.Path} Authorization: {Short(auth ?? "(none)")}", method, Url(), PlausibleBody(),
                    auth is null ? [] : [("Authorization", auth)]);
                if (!open && answer != HttpStatusCode.Unauthorized) failures.Add($"{op.Method} {op.Path} with Authorization '{Short(auth ?? "(none)")}' answered {(int)answer}, not 401");
            }
        }

        // What Kestrel refuses while parsing, before any middleware runs, so without a problem body: a NUL in the path
        // (400), a request line over 8 KiB (414), headers over 32 KiB (431). The server answers and carries on.
        foreach (var (what, request, expected) in new (string, Func<HttpRequestMessage>, HttpStatusCode)[]
        {
            ("NUL in the path", () => new(HttpMethod.Get, "/v1/jobs/%00"), HttpStatusCode.BadRequest),
            ("9 KiB request line", () => new(HttpMethod.Get, "/v1/jobs?cursor=" + new string('c', 9 * 1024)), HttpStatusCode.RequestUriTooLong),
            ("40 KiB of headers", () => { var r = new HttpRequestMessage(HttpMethod.Get, "/v1/jobs"); r.Headers.TryAddWithoutValidation("X-Big", new string('h', 40 * 1024)); return r; },
                HttpStatusCode.RequestHeaderFieldsTooLarge),
        })
        {
            sent++;
            using var response = await client.SendAsync(request());
            statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
            if (response.StatusCode != expected) failures.Add($"{what}: {(int)response.StatusCode}, expected {(int)expected}");
        }

        await client.CancelUnfinishedAsync();
        output.WriteLine($"{operations.Count} operations, {sent} requests; answers: " + string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}")));
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} hostile requests were answered wrongly:\n{string.Join("\n", failures.Take(40))}");

        // Nothing refused was written: the key's jobs are exactly the ones answered 2xx.
        Assert.Equal((long)acceptedJobs.Count, await host.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE api_key_id = @k", ("k", key.Id)));
        Assert.True(statuses.Keys.Count(s => s >= 400) >= 5, "the sweep should draw many kinds of refusal");
        using (var ready = await client.GetAsync("/health/ready")) Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        await host.Client.GenerateAsync("""{"count":1,"seed":20261128}""");
    }

    private async Task<HttpStatusCode> SendAsync(HttpClient client, string what, HttpMethod method, string url, HttpContent? content,
        params (string Name, string Value)[] headers)
    {
        sent++;
        using var request = new HttpRequestMessage(method, url) { Content = content };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        HttpResponseMessage response;
        try { response = await client.SendAsync(request); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            failures.Add($"{what}: no answer ({e.Message})");
            return 0;
        }
        using (response)
        {
            int status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var type = response.Content.Headers.ContentType?.MediaType;
            if (status is >= 200 and < 300)
            {
                if (type == "application/json" && url.StartsWith("/v1/", StringComparison.Ordinal) && method == HttpMethod.Post)
                {
                    var body = await Http.ReadAsync(response);
                    if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("id", out var id) && body.TryGetProperty("kind", out _)
                        && Guid.TryParse(id.GetString(), out var jobId) && acceptedJobs.Add(jobId))
                        await client.PostEmptyAsync($"/v1/jobs/{jobId}/cancel");
                }
                return response.StatusCode;
            }
            if (status is >= 400 and < 500 && type == "application/problem+json")
            {
                var body = await Http.ReadAsync(response);
                if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("status", out var s) && s.GetInt32() == status) return response.StatusCode;
            }
            if (status is 301 or 302 or 304 or 307 or 308) return response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            failures.Add($"{what}: {status} {type} {text[..Math.Min(200, text.Length)]}");
            return response.StatusCode;
        }
    }

    private static string PlausiblePathValue(string name, JsonElement parameter)
    {
        var format = parameter.TryGetProperty("schema", out var schema) && schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        if (format == "uuid") return Guid.NewGuid().ToString();
        return name switch { "name" => "dcgan-fashion", "key" => "jobs/00000000000000000000000000000000/0.png", _ => "x" };
    }

    private static BodyFuzzer? BodyFuzzerFor(string path) => path switch
    {
        "/v1/generations" => BodyFuzzer.Generations,
        "/v1/trainings" => BodyFuzzer.Trainings,
        "/v1/videos" => BodyFuzzer.Videos,
        "/v1/text-to-image" => BodyFuzzer.TextToImage,
        _ => null,
    };

    private static bool HasJsonBody(Operation op) =>
        op.Spec.TryGetProperty("requestBody", out var body) && body.GetProperty("content").TryGetProperty("application/json", out _);

    private static bool HasMultipartBody(Operation op) =>
        op.Spec.TryGetProperty("requestBody", out var body) && body.GetProperty("content").TryGetProperty("multipart/form-data", out _);

    private static IEnumerable<(string, HttpContent)> BrokenMultiparts(Random rng)
    {
        var junk = new byte[64 * 1024];
        rng.NextBytes(junk);
        yield return ("multipart with no parts", new MultipartFormDataContent());
        var onlyJunk = new MultipartFormDataContent { { new ByteArrayContent(junk), "weights", "w.safetensors" } };
        yield return ("multipart: random bytes as weights, no config", onlyJunk);
        var badConfig = new MultipartFormDataContent
        {
            { new ByteArrayContent(junk), "weights", "w.safetensors" },
            { new StringContent("{\"family\":"), "config", "model.json" },
            { new StringContent("../../etc"), "name" },
        };
        yield return ("multipart: random weights, truncated config, traversal name", badConfig);
        yield return ("multipart content type without boundary", Bytes(junk, "multipart/form-data"));
        var cut = new MultipartFormDataContent("b0undary") { { new ByteArrayContent(junk), "weights", "w.safetensors" } };
        var whole = cut.ReadAsByteArrayAsync().GetAwaiter().GetResult();
        var truncated = new ByteArrayContent(whole[..(whole.Length / 2)]);
        truncated.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b0undary");
        yield return ("multipart truncated halfway", truncated);
        yield return ("JSON where multipart is expected", Http.Json("{\"weights\":\"AAAA\"}"));
    }

    private static ByteArrayContent Bytes(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private static string Short(string s) => s.Length <= 40 ? s : s[..40] + $"…({s.Length})";
}
