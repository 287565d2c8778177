using System.Net;
using System.Text.Json;

namespace GanService.Api.Tests;

/// <summary>POST /v1/trainings and GET /v1/datasets over real HTTP, with the training run by a real worker process.</summary>
[Collection(ServiceCollection.Name)]
public sealed class TrainingsTests(ServiceHost host)
{
    // A Progressive GAN small enough for CI: 32×32 grey, levels 0..3, 1 batch of 16 per phase (7 steps).
    private static string TinyTraining(string name, double stableKimg = 0.016, long seed = 5, bool evaluate = true) =>
        $$"""{"dataset":"fashion-mnist","name":"{{name}}","latentDim":8,"fmapBase":32,"fmapMax":8,"stableKimg":{{stableKimg}},"fadeKimg":0.016,"batchSize":16,"seed":{{seed}},"evaluate":{{(evaluate ? "true" : "false")}}}""";

    private async Task<JsonElement> WaitForAsync(string id, Func<JsonElement, bool> condition, TimeSpan timeout, string what)
    {
        JsonElement job = default;
        await ServiceHost.WaitUntilAsync(async () =>
        {
            (_, job) = await host.Client.GetJsonAsync($"/v1/jobs/{id}");
            return condition(job);
        }, timeout, what, () => job.ToString());
        return job;
    }

    [Fact]
    public async Task A_training_registers_a_version_with_metrics_that_generations_then_serve_deterministically()
    {
        var name = "progan-test-" + Guid.NewGuid().ToString("N")[..8];
        var (response, created) = await host.Client.PostAsync("/v1/trainings", TinyTraining(name));
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {created}");
        Assert.Equal("training", created.GetProperty("kind").GetString());
        Assert.Equal(name, created.GetProperty("model").GetString());
        var id = created.GetProperty("id").GetString()!;

        var job = await WaitForAsync(id, j => j.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled",
            TimeSpan.FromMinutes(5), "the training to finish");
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        var detail = job.GetProperty("detail");
        Assert.Equal(7, detail.GetProperty("step").GetInt64());
        Assert.Equal(32, detail.GetProperty("resolution").GetInt32());
        var version = job.GetProperty("modelVersion").GetString()!;
        Assert.Equal(version, detail.GetProperty("version").GetString());
        Assert.Equal(1.0, job.GetProperty("progress").GetDouble());
        var grid = await host.Client.DownloadAsync(job.GetProperty("outputs")[0]);
        Assert.Equal((8 * 32, 4 * 32), Http.PngSize(grid));

        var (_, models) = await host.Client.GetJsonAsync("/v1/models");
        var model = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == name);
        Assert.Equal("progan", model.GetProperty("family").GetString());
        Assert.Equal(version, model.GetProperty("version").GetString());
        var metrics = model.GetProperty("metrics");
        Assert.StartsWith(version, metrics.GetProperty("generatorSha256").GetString());
        double fd = metrics.GetProperty("frechetDistance").GetDouble(), floor = metrics.GetProperty("frechetDistanceFloor").GetDouble();
        Assert.True(double.IsFinite(fd) && fd > floor && floor > 0, $"FD {fd}, floor {floor}");

        var first = await host.Client.GenerateAsync($$"""{"model":"{{name}}","count":2,"seed":3}""");
        Assert.Equal(version, first.GetProperty("modelVersion").GetString());
        var image = await host.Client.DownloadAsync(first.GetProperty("outputs")[1]);
        Assert.Equal((32, 32), Http.PngSize(image));
        var again = await host.Client.GenerateAsync($$"""{"model":"{{name}}","count":1,"seed":4}""");
        Assert.Equal(Http.Sha(image), Http.Sha(await host.Client.DownloadAsync(again.GetProperty("outputs")[0])));

        // Training the same name again makes a second version, now current; the first stays servable by pinning it.
        var (_, second) = await host.Client.PostAsync("/v1/trainings", TinyTraining(name, seed: 6, evaluate: false));
        var secondJob = await WaitForAsync(second.GetProperty("id").GetString()!, j => j.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled",
            TimeSpan.FromMinutes(5), "the second training to finish");
        var version2 = secondJob.GetProperty("modelVersion").GetString()!;
        Assert.NotEqual(version, version2);
        // The Api caches the model list for up to 5 s: the new version becomes current within that.
        await ServiceHost.WaitUntilAsync(async () =>
        {
            var (_, list) = await host.Client.GetJsonAsync("/v1/models");
            return list.EnumerateArray().Any(m => m.GetProperty("name").GetString() == name && m.GetProperty("version").GetString() == version2);
        }, TimeSpan.FromSeconds(15), "the new version to become current");
        var current = await host.Client.GenerateAsync($$"""{"model":"{{name}}","count":1,"seed":4}""");
        Assert.Equal(version2, current.GetProperty("modelVersion").GetString());
        Assert.NotEqual(Http.Sha(image), Http.Sha(await host.Client.DownloadAsync(current.GetProperty("outputs")[0])));
        var pinned = await host.Client.GenerateAsync($$"""{"model":"{{name}}@{{version}}","count":1,"seed":4}""");
        Assert.Equal(version, pinned.GetProperty("modelVersion").GetString());
        Assert.Equal(Http.Sha(image), Http.Sha(await host.Client.DownloadAsync(pinned.GetProperty("outputs")[0])));
        var full = metrics.GetProperty("generatorSha256").GetString()!;
        var byFullSha = await host.Client.GenerateAsync($$"""{"model":"{{name}}@{{full}}","count":1,"seed":4}""");
        Assert.Equal(version, byFullSha.GetProperty("modelVersion").GetString());
        var (badPin, problem) = await host.Client.PostAsync("/v1/generations", $$"""{"model":"{{name}}@000000000000"}""");
        Http.AssertProblem(badPin, problem, HttpStatusCode.BadRequest, "model");
        var (truncated, truncationProblem) = await host.Client.PostAsync("/v1/generations", $$"""{"model":"{{name}}","truncation":0.5}""");
        Http.AssertProblem(truncated, truncationProblem, HttpStatusCode.BadRequest, "truncation");
    }

    [Fact]
    public async Task A_running_training_reports_progress_and_a_cancel_stops_it_with_nothing_registered()
    {
        var name = "progan-cancel-" + Guid.NewGuid().ToString("N")[..8];
        await using var receiver = new WebhookReceiver();
        var body = TinyTraining(name, stableKimg: 500);
        body = $$"""{"webhook":"{{receiver.BaseUrl}}/training","webhookEvents":["start","progress","completed"],""" + body[1..];
        var (response, created) = await host.Client.PostAsync("/v1/trainings", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = created.GetProperty("id").GetString()!;
        var running = await WaitForAsync(id, j => j.TryGetProperty("detail", out var d) && d.GetProperty("step").GetInt64() > 0,
            TimeSpan.FromMinutes(2), "the training to report progress");
        Assert.Equal("running", running.GetProperty("status").GetString());
        Assert.InRange(running.GetProperty("progress").GetDouble(), 0, 0.99);
        Assert.Equal(4, running.GetProperty("detail").GetProperty("resolution").GetInt32());
        // A progress delivery still waiting when the job ends is superseded by the completed one (WebhookDispatcher), so
        // hear one while the training runs before cancelling (a fresh-clone CI run cancelled first and never heard one).
        await ServiceHost.WaitUntilAsync(() => Task.FromResult(receiver.On("/training").Any(r => r.Body.Contains("\"job.progress\""))),
            TimeSpan.FromSeconds(60), "a progress delivery while the training runs");

        var (cancelResponse, _) = await host.Client.PostEmptyAsync($"/v1/jobs/{id}/cancel");
        Assert.Equal(HttpStatusCode.OK, cancelResponse.StatusCode);
        await ServiceHost.WaitUntilAsync(async () =>
            await host.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE id = @id AND status = 'canceled'", ("id", Guid.Parse(id))) == 1
            && !Directory.Exists(Path.Combine(host.Scratch, "checkpoints", "jobs", Guid.Parse(id).ToString("N"))),
            TimeSpan.FromSeconds(30), "the worker to stop the training and remove its checkpoints");
        var (_, after) = await host.Client.GetJsonAsync($"/v1/jobs/{id}");
        long step = after.GetProperty("detail").GetProperty("step").GetInt64();
        await Task.Delay(3000);
        var (_, later) = await host.Client.GetJsonAsync($"/v1/jobs/{id}");
        Assert.Equal("canceled", later.GetProperty("status").GetString());
        Assert.Equal(step, later.GetProperty("detail").GetProperty("step").GetInt64());
        Assert.Equal(0, await host.ScalarAsync<long>("SELECT count(*) FROM models WHERE name = @n", ("n", name)));

        // Its webhook heard the start, at least one progress event (above), and the end (canceled).
        await ServiceHost.WaitUntilAsync(() => Task.FromResult(receiver.On("/training").Any(r => r.Body.Contains("\"job.completed\""))),
            TimeSpan.FromSeconds(30), "the completed delivery");
        var kinds = receiver.On("/training").Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Single(kinds, k => k.GetProperty("type").GetString() == "job.start");
        Assert.Contains(kinds, k => k.GetProperty("type").GetString() == "job.progress" && k.GetProperty("data").GetProperty("progress").GetDouble() > 0);
        var completed = Assert.Single(kinds, k => k.GetProperty("type").GetString() == "job.completed");
        Assert.Equal("canceled", completed.GetProperty("data").GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("""{"dataset":"fashion-mnist","family":"stylegan"}""", "family")]
    [InlineData("""{"dataset":"imagenet"}""", "dataset")]
    [InlineData("""{"family":"progan"}""", "dataset")]
    [InlineData("""{"dataset":"fashion-mnist","stableKimg":-1}""", "stableKimg")]
    [InlineData("""{"dataset":"fashion-mnist","stableKimg":1e9}""", "stableKimg")]
    [InlineData("""{"dataset":"fashion-mnist","fadeKimg":-0.5}""", "fadeKimg")]
    [InlineData("""{"dataset":"fashion-mnist","resolution":48}""", "resolution")]
    [InlineData("""{"dataset":"fashion-mnist","resolution":64}""", "resolution")]
    [InlineData("""{"dataset":"fashion-mnist","batchSize":0}""", "batchSize")]
    [InlineData("""{"dataset":"fashion-mnist","fmapMax":100000}""", "fmapMax")]
    [InlineData("""{"dataset":"fashion-mnist","name":"Bad Name!"}""", "name")]
    [InlineData("""{"dataset":"fashion-mnist","name":"dcgan-fashion"}""", "name")]
    [InlineData("""{"dataset":"fashion-mnist","sets":["google"]}""", "sets")]
    public async Task Bad_training_requests_answer_400_naming_the_field_and_queue_nothing(string body, string field)
    {
        long before = await host.JobCountAsync();
        var (response, problem) = await host.Client.PostAsync("/v1/trainings", body);
        Http.AssertProblem(response, problem, HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Theory]
    [InlineData("""{"dataset":"fashion-mnist","stableKimg":"lots"}""")]
    [InlineData("""{"dataset":"fashion-mnist",""")]
    [InlineData("""["fashion-mnist"]""")]
    public async Task Malformed_or_wrongly_typed_training_bodies_answer_400_and_queue_nothing(string body)
    {
        long before = await host.JobCountAsync();
        var (response, problem) = await host.Client.PostAsync("/v1/trainings", body);
        Http.AssertProblem(response, problem, HttpStatusCode.BadRequest);
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Fact]
    public async Task Trainings_and_datasets_are_admin_only_and_the_registry_lists_both_datasets_with_licences()
    {
        var jobsOnly = await host.InsertKeyAsync("jobs-only", "jobs");
        using var client = host.NewClient(jobsOnly.Key);
        var (post, postBody) = await client.PostAsync("/v1/trainings", """{"dataset":"fashion-mnist"}""");
        Http.AssertProblem(post, postBody, HttpStatusCode.Forbidden);
        var (get, getBody) = await client.GetJsonAsync("/v1/datasets");
        Http.AssertProblem(get, getBody, HttpStatusCode.Forbidden);

        var (response, datasets) = await host.Client.GetJsonAsync("/v1/datasets");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var byName = datasets.EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!);
        Assert.Equal(["emoji", "fashion-mnist"], byName.Keys.Order());
        var fashion = byName["fashion-mnist"];
        Assert.True(fashion.GetProperty("fetched").GetBoolean(), "./test.sh fetches Fashion-MNIST");
        Assert.Equal(10, fashion.GetProperty("classes").GetArrayLength());
        Assert.Contains("MIT", fashion.GetProperty("licence").GetString());
        var sets = byName["emoji"].GetProperty("sets").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Contains("Apache-2.0", sets["google"].GetProperty("licence").GetString());
        Assert.Contains("CC-BY-4.0", sets["twitter"].GetProperty("licence").GetString());
        foreach (var set in sets.Values)
            Assert.Equal(set.GetProperty("fetched").GetBoolean(), set.GetProperty("images").GetInt32() > 0);
    }
}
