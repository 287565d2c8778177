using System.Net;
using System.Text.Json;

namespace GanService.Api.Tests;

[Collection(ServiceCollection.Name)]
public sealed class ModelsAndDocsTests(ServiceHost host)
{
    private static readonly string[] FashionLabels =
        ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"];

    private static readonly string[] HttpMethods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    [Fact]
    public async Task Models_lists_dcgan_fashion_as_the_default_generation_model()
    {
        var (response, models) = await host.Client.GetJsonAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(JsonValueKind.Array, models.ValueKind);
        var fashion = Assert.Single(models.EnumerateArray(), m => m.GetProperty("name").GetString() == "dcgan-fashion");

        Assert.Equal("generation", fashion.GetProperty("kind").GetString());
        Assert.False(string.IsNullOrEmpty(fashion.GetProperty("family").GetString()));
        Assert.Matches("^[0-9a-f]{12}$", fashion.GetProperty("version").GetString());
        Assert.True(fashion.GetProperty("isDefault").GetBoolean());
        Assert.Equal(32, fashion.GetProperty("resolution").GetInt32());
        Assert.Equal(FashionLabels, fashion.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        // One default per kind.
        Assert.Single(models.EnumerateArray(), m => m.GetProperty("kind").GetString() == "generation" && m.GetProperty("isDefault").GetBoolean());
    }

    [Fact]
    public async Task The_shipped_emoji_progan_serves_64_px_colour_images_deterministically_and_carries_its_evaluation()
    {
        var (_, models) = await host.Client.GetJsonAsync("/v1/models");
        var progan = Assert.Single(models.EnumerateArray(), m => m.GetProperty("name").GetString() == "progan-emoji");
        Assert.Equal("progan", progan.GetProperty("family").GetString());
        Assert.Equal(64, progan.GetProperty("resolution").GetInt32());
        var metrics = progan.GetProperty("metrics");
        double fd = metrics.GetProperty("frechetDistance").GetDouble();
        Assert.True(fd < metrics.GetProperty("frechetDistanceUntrained").GetDouble() / 2, $"FD {fd} is not far below the untrained generator's");
        Assert.True(fd > metrics.GetProperty("frechetDistanceFloor").GetDouble());

        var job = await host.Client.GenerateAsync("""{"model":"progan-emoji","count":3,"seed":100}""");
        var third = await host.Client.DownloadAsync(job.GetProperty("outputs")[2]);
        Assert.Equal((64, 64), Http.PngSize(third));
        Assert.True(third[25] is 2 or 6, $"PNG colour type {third[25]}: expected RGB or RGBA"); // IHDR colour type
        var alone = await host.Client.GenerateAsync("""{"model":"progan-emoji","count":1,"seed":102}""");
        Assert.Equal(Http.Sha(third), Http.Sha(await host.Client.DownloadAsync(alone.GetProperty("outputs")[0])));
    }

    [Fact]
    public async Task Models_version_is_the_one_jobs_report()
    {
        var (_, models) = await host.Client.GetJsonAsync("/v1/models");
        var version = models.EnumerateArray().First(m => m.GetProperty("name").GetString() == "dcgan-fashion").GetProperty("version").GetString();
        var job = await host.Client.GenerateAsync("""{"count":1,"seed":2}""");
        Assert.Equal(version, job.GetProperty("modelVersion").GetString());
    }

    private async Task<JsonElement> SwaggerAsync()
    {
        using var anonymous = host.NewClient(null);
        var (response, doc) = await anonymous.GetJsonAsync("/swagger/v1/swagger.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return doc;
    }

    private static IEnumerable<(string Path, string Method, JsonElement Operation)> V1Operations(JsonElement doc) =>
        doc.GetProperty("paths").EnumerateObject()
            .Where(p => p.Name.StartsWith("/v1/", StringComparison.Ordinal) || p.Name == "/v1")
            .SelectMany(p => p.Value.EnumerateObject().Where(o => HttpMethods.Contains(o.Name)).Select(o => (p.Name, o.Name, o.Value)));

    [Fact]
    public async Task OpenApi_document_has_a_bearer_http_security_scheme()
    {
        var doc = await SwaggerAsync();
        var scheme = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString(), ignoreCase: true);
    }

    [Fact]
    public async Task Every_v1_operation_has_a_unique_operation_id_a_summary_and_bearer_security()
    {
        var doc = await SwaggerAsync();
        var operations = V1Operations(doc).ToList();
        Assert.True(operations.Count >= 5, $"expected the /v1 operations, found {operations.Count}");
        var problems = new List<string>();
        var ids = new List<string>();
        foreach (var (path, method, op) in operations)
        {
            string where = $"{method.ToUpperInvariant()} {path}";
            if (op.TryGetProperty("operationId", out var id) && !string.IsNullOrWhiteSpace(id.GetString())) ids.Add(id.GetString()!);
            else problems.Add(where + ": no operationId");
            if (!op.TryGetProperty("summary", out var summary) || string.IsNullOrWhiteSpace(summary.GetString())) problems.Add(where + ": no summary");
            bool bearer = op.TryGetProperty("security", out var security) && security.ValueKind == JsonValueKind.Array
                && security.EnumerateArray().Any(r => r.TryGetProperty("bearer", out _));
            if (!bearer) problems.Add(where + ": no bearer security requirement");
            if (!op.GetProperty("responses").TryGetProperty("401", out _)) problems.Add(where + ": 401 not documented");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var expected in new[] { "CreateGeneration", "CreateTextToImage", "GetJob", "ListJobs", "CancelJob", "ListModels" }) Assert.Contains(expected, ids);
    }

    [Fact]
    public async Task Health_live_and_ready_answer_200_with_a_connected_worker()
    {
        using var anonymous = host.NewClient(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);

        JsonElement ready = default;
        await ServiceHost.WaitUntilAsync(async () =>
        {
            var (response, body) = await anonymous.GetJsonAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            ready = body;
            return body.GetProperty("checks").GetProperty("queue").GetProperty("data").GetProperty("workers").GetInt32() >= 1
                && body.GetProperty("checks").GetProperty("workers").GetProperty("status").GetString() == "healthy";
        }, TimeSpan.FromSeconds(30), "a worker to register with the queue and report its device");
        Assert.Equal("healthy", ready.GetProperty("status").GetString());
        Assert.Equal("healthy", ready.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());

        // The worker reports its device, and warmed the default models at start (generation, aging, text-to-image and video).
        Assert.Contains("Warmed 4 default model", host.Logs(int.MaxValue));
        var worker = ready.GetProperty("checks").GetProperty("workers").GetProperty("data").GetProperty("workers")[0];
        Assert.Equal("cpu", worker.GetProperty("device").GetString());
        Assert.StartsWith("cpu (1 torch threads", worker.GetProperty("deviceName").GetString());
        Assert.True(worker.GetProperty("deviceMemoryBytes").GetInt64() > 0);
        // ./test.sh installs ffmpeg, so this worker writes mp4 besides gif and webp, and takes the video queue.
        Assert.Equal(["gif", "webp", "mp4"], worker.GetProperty("videoFormats").EnumerateArray().Select(f => f.GetString()));
        Assert.Contains("video", worker.GetProperty("queues").EnumerateArray().Select(q => q.GetString()));
        Assert.Contains("text-to-image", worker.GetProperty("queues").EnumerateArray().Select(q => q.GetString()));
        Assert.Contains(worker.GetProperty("loadedModels").EnumerateArray(), m => m.GetProperty("model").GetString() == "dcgan-fashion");
        Assert.Contains(worker.GetProperty("loadedModels").EnumerateArray(), m => m.GetProperty("model").GetString() == "caae-faces");
        Assert.Contains(worker.GetProperty("loadedModels").EnumerateArray(), m => m.GetProperty("model").GetString() == "stackgan-emoji");
    }

    [Fact]
    public async Task Swagger_example_for_a_generation_runs_as_it_is()
    {
        var (_, doc) = await host.Client.GetJsonAsync("/swagger/v1/swagger.json");
        var schema = doc.GetProperty("components").GetProperty("schemas").GetProperty("GenerationRequest");
        var example = schema.TryGetProperty("example", out var single) ? single : schema.GetProperty("examples")[0];
        Assert.Equal(JsonValueKind.Object, example.ValueKind);

        var job = await host.Client.GenerateAsync(example.GetRawText());
        Assert.Equal(example.GetProperty("count").GetInt32(), job.GetProperty("outputs").GetArrayLength());
    }

    [Fact]
    public async Task Swagger_example_for_a_text_to_image_runs_as_it_is()
    {
        var (_, doc) = await host.Client.GetJsonAsync("/swagger/v1/swagger.json");
        var schema = doc.GetProperty("components").GetProperty("schemas").GetProperty("TextToImageRequest");
        var example = schema.TryGetProperty("example", out var single) ? single : schema.GetProperty("examples")[0];
        Assert.Equal(JsonValueKind.Object, example.ValueKind);

        var (response, job) = await host.Client.PostAsync("/v1/text-to-image", example.GetRawText(), ("Prefer", "wait=60"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {job}");
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        // No includeStageOne in the example: one output per image, whatever stages the model has.
        Assert.Equal(example.GetProperty("count").GetInt32(), job.GetProperty("outputs").GetArrayLength());
    }
}
