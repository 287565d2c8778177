using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace GanService.Api.Tests;

public static class Http
{
    public static StringContent Json(string body, string contentType = "application/json") =>
        new(body, Encoding.UTF8, new MediaTypeHeaderValue(contentType));

    public static async Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(
        this HttpClient client, string path, string body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(body) };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        var response = await client.SendAsync(request);
        return (response, await ReadAsync(response));
    }

    public static async Task<(HttpResponseMessage Response, JsonElement Body)> GetJsonAsync(this HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        return (response, await ReadAsync(response));
    }

    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (string.IsNullOrWhiteSpace(text)) return default;
        try { return JsonDocument.Parse(text).RootElement.Clone(); }
        catch (JsonException) { return JsonDocument.Parse(JsonSerializer.Serialize(new { raw = text })).RootElement.Clone(); }
    }

    /// <summary>POSTs a generation with Prefer: wait and returns the finished job.</summary>
    public static async Task<JsonElement> GenerateAsync(this HttpClient client, string body)
    {
        var (response, job) = await client.PostAsync("/v1/generations", body, ("Prefer", "wait=60"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {job}");
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        return job;
    }

    public static async Task<byte[]> DownloadAsync(this HttpClient client, JsonElement output)
    {
        var response = await client.GetAsync(output.GetProperty("url").GetString());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }

    public static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Width and height from a PNG's IHDR chunk (after checking the signature).</summary>
    public static (int Width, int Height) PngSize(byte[] png)
    {
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.True(png.Length > 24 && png.AsSpan(0, 8).SequenceEqual(signature), "not a PNG");
        int w = (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19];
        int h = (png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23];
        return (w, h);
    }

    public static void AssertProblem(HttpResponseMessage response, JsonElement body, HttpStatusCode status, string? field = null)
    {
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        if (field is not null)
        {
            Assert.True(body.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _),
                $"expected the problem to name '{field}': {body}");
        }
    }
}
