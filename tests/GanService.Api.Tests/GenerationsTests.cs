using System.Net;

namespace GanService.Api.Tests;

[Collection(ServiceCollection.Name)]
public sealed class GenerationsTests(ServiceHost host)
{
    private readonly HttpClient client = host.Client;

    [Fact]
    public async Task Generation_with_prefer_wait_returns_finished_job_with_downloadable_pngs()
    {
        var job = await client.GenerateAsync("""{"label":"sneaker","count":3,"seed":7}""");

        Assert.Equal("dcgan-fashion", job.GetProperty("model").GetString());
        Assert.Equal(12, job.GetProperty("modelVersion").GetString()!.Length);
        var outputs = job.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(3, outputs.Count);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(7 + i, outputs[i].GetProperty("seed").GetInt64());
            Assert.Equal("sneaker", outputs[i].GetProperty("label").GetString());
            Assert.Equal("image/png", outputs[i].GetProperty("contentType").GetString());
            var response = await client.GetAsync(outputs[i].GetProperty("url").GetString());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(response.Headers.ETag);
            Assert.Contains("max-age=", response.Headers.CacheControl?.ToString());
            var (w, h) = Http.PngSize(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal((32, 32), (w, h));
        }
        Assert.True(job.GetProperty("metrics").GetProperty("runMs").GetInt64() >= 0);
    }

    [Fact]
    public async Task Same_request_and_seed_returns_identical_pixels()
    {
        const string body = """{"label":"bag","count":2,"seed":123456789}""";
        var a = await client.GenerateAsync(body);
        var b = await client.GenerateAsync(body);
        Assert.NotEqual(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        for (int i = 0; i < 2; i++)
        {
            var pa = await client.DownloadAsync(a.GetProperty("outputs")[i]);
            var pb = await client.DownloadAsync(b.GetProperty("outputs")[i]);
            Assert.Equal(Http.Sha(pa), Http.Sha(pb));
        }
        // And a different seed gives a different image.
        var c = await client.GenerateAsync("""{"label":"bag","count":1,"seed":987654321}""");
        Assert.NotEqual(Http.Sha(await client.DownloadAsync(a.GetProperty("outputs")[0])), Http.Sha(await client.DownloadAsync(c.GetProperty("outputs")[0])));
    }

    [Fact]
    public async Task Image_is_the_same_alone_or_in_a_batch()
    {
        // No label: image i is drawn with label (seed + i) mod 10 in both requests.
        var batch = await client.GenerateAsync("""{"count":6,"seed":1000}""");
        var alone = await client.GenerateAsync("""{"count":1,"seed":1004}""");
        var inBatch = batch.GetProperty("outputs")[4];
        var single = alone.GetProperty("outputs")[0];
        Assert.Equal(1004, inBatch.GetProperty("seed").GetInt64());
        Assert.Equal(inBatch.GetProperty("label").GetString(), single.GetProperty("label").GetString());
        Assert.Equal(Http.Sha(await client.DownloadAsync(inBatch)), Http.Sha(await client.DownloadAsync(single)));
    }

    [Fact]
    public async Task Webp_and_jpeg_outputs_carry_their_content_types()
    {
        foreach (var (format, type, magic) in new[] { ("webp", "image/webp", "RIFF"), ("jpeg", "image/jpeg", "\xFF\xD8") })
        {
            var job = await client.GenerateAsync($$"""{"count":1,"seed":5,"format":"{{format}}"}""");
            var output = job.GetProperty("outputs")[0];
            Assert.Equal(type, output.GetProperty("contentType").GetString());
            var bytes = await client.DownloadAsync(output);
            Assert.Equal(magic, new string(bytes.Take(magic.Length).Select(b => (char)b).ToArray()));
        }
    }

    [Fact]
    public async Task Without_prefer_wait_the_answer_is_202_with_location_and_the_job_finishes()
    {
        var (response, job) = await client.PostAsync("/v1/generations", """{"count":1}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = job.GetProperty("id").GetString();
        Assert.Equal($"/v1/jobs/{id}", response.Headers.Location?.ToString());
        Assert.True(job.GetProperty("input").GetProperty("seed").GetInt64() >= 0, "a random seed is drawn and reported");
        await ServiceHost.WaitUntilAsync(async () =>
        {
            var (_, current) = await client.GetJsonAsync($"/v1/jobs/{id}");
            return current.GetProperty("status").GetString() == "succeeded";
        }, TimeSpan.FromSeconds(60), "the job to succeed");
    }
}
