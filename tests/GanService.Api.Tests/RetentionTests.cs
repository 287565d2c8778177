using System.Net;
using System.Text.Json;

namespace GanService.Api.Tests;

/// <summary>A host whose outputs live 4 s, swept every second.</summary>
public sealed class RetentionHost : ServiceHost
{
    public const int OutputSeconds = 4;

    protected override IReadOnlyDictionary<string, string> ExtraEnv => new Dictionary<string, string>
    {
        ["Retention__OutputSeconds"] = OutputSeconds.ToString(),
        ["Retention__SweepSeconds"] = "1",
    };
}

[CollectionDefinition(Name)]
public sealed class RetentionCollection : ICollectionFixture<RetentionHost>
{
    public const string Name = "retention";
}

[Collection(RetentionCollection.Name)]
public sealed class RetentionTests(RetentionHost host)
{
    [Fact]
    public async Task Outputs_expire_after_the_retention_time_their_files_go_links_answer_410_and_the_row_stays()
    {
        var job = await host.Client.GenerateAsync("""{"count":2,"seed":5}""");
        string id = job.GetProperty("id").GetString()!;
        var completed = job.GetProperty("completedAt").GetDateTimeOffset();
        Assert.Equal(completed.AddSeconds(RetentionHost.OutputSeconds), job.GetProperty("expiresAt").GetDateTimeOffset());
        var output = job.GetProperty("outputs")[0];
        Assert.NotEmpty(await host.Client.DownloadAsync(output));
        string blobs = Path.Combine(host.Scratch, "blobs", "jobs", Guid.Parse(id).ToString("N"));
        Assert.Equal(2, Directory.GetFiles(blobs).Length);

        JsonElement after = default;
        await ServiceHost.WaitUntilAsync(async () =>
        {
            (_, after) = await host.Client.GetJsonAsync($"/v1/jobs/{id}");
            return after.TryGetProperty("expiredAt", out _);
        }, TimeSpan.FromSeconds(30), "the sweep to expire the job", () => after.ToString());

        Assert.True(after.GetProperty("expiredAt").GetDateTimeOffset() >= completed.AddSeconds(RetentionHost.OutputSeconds));
        Assert.Equal("succeeded", after.GetProperty("status").GetString());
        Assert.Equal(5, after.GetProperty("input").GetProperty("seed").GetInt64());
        Assert.Equal(0, after.GetProperty("outputs").GetArrayLength());
        Assert.False(after.TryGetProperty("expiresAt", out _));
        Assert.False(Directory.Exists(blobs), "the job's output folder should go with its files");

        var response = await host.Client.GetAsync(output.GetProperty("url").GetString());
        var problem = await Http.ReadAsync(response);
        Http.AssertProblem(response, problem, HttpStatusCode.Gone);
        Assert.Contains("retention", problem.GetProperty("detail").GetString());
        // A link of that job past its own expiry says the same: the output is gone for good, not "fetch a fresh link".
        var old = await host.Client.GetAsync(TestHelpers.SignedPath($"jobs/{Guid.Parse(id):N}/1.png", DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds()));
        Http.AssertProblem(old, await Http.ReadAsync(old), HttpStatusCode.Gone);
    }

    [Fact]
    public async Task An_aging_jobs_uploaded_face_expires_with_its_outputs()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(GanService.Tests.Shared.TestImages.Face(64, 64, SkiaSharp.SKEncodedImageFormat.Png)), "image", "face.png");
        form.Add(new StringContent("older"), "targetAges");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/agings") { Content = form };
        request.Headers.Add("Prefer", "wait=60");
        var response = await host.Client.SendAsync(request);
        var job = await Http.ReadAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, job.ToString());
        string id = job.GetProperty("id").GetString()!;
        var inputUrl = job.GetProperty("inputUrl").GetString()!;
        string folder = Path.Combine(host.Scratch, "blobs", "jobs", Guid.Parse(id).ToString("N"));
        Assert.Equal(["0.png", "input.png"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());

        JsonElement after = default;
        await ServiceHost.WaitUntilAsync(async () =>
        {
            (_, after) = await host.Client.GetJsonAsync($"/v1/jobs/{id}");
            return after.TryGetProperty("expiredAt", out _);
        }, TimeSpan.FromSeconds(30), "the sweep to expire the aging job", () => after.ToString());
        Assert.False(after.TryGetProperty("inputUrl", out _));
        Assert.False(Directory.Exists(folder), "the upload should go with the outputs");
        var gone = await host.Client.GetAsync(inputUrl);
        Http.AssertProblem(gone, await Http.ReadAsync(gone), HttpStatusCode.Gone);
    }

    [Fact]
    public async Task A_missing_file_of_a_job_that_has_not_expired_is_still_a_404()
    {
        var job = await host.Client.GenerateAsync("""{"count":1,"seed":6}""");
        var url = job.GetProperty("outputs")[0].GetProperty("url").GetString()!;
        // A file removed behind the service's back (not by retention) is not "gone by policy".
        File.Delete(Path.Combine(host.Scratch, "blobs", "jobs", Guid.Parse(job.GetProperty("id").GetString()!).ToString("N"), "0.png"));
        var response = await host.Client.GetAsync(url);
        Http.AssertProblem(response, await Http.ReadAsync(response), HttpStatusCode.NotFound);
    }
}
