using System.Net;
using GanService.Core.Jobs;
using GanService.Core.Queue;
using Hangfire;

namespace GanService.Api.Tests;

/// <summary>A host of its own whose workers the fault tests start, kill and restart; short invisibility timeout.</summary>
public sealed class FaultHost : ServiceHost
{
    protected override IReadOnlyDictionary<string, string> ExtraEnv => new Dictionary<string, string>
    {
        ["Queue__InvisibilityTimeoutSeconds"] = "6",
    };

    protected override bool StartWorkerAtOnce => false;
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultHost>
{
    public const string Name = "faults";
}

[Collection(FaultCollection.Name)]
public sealed class FaultTests(FaultHost host)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Jobs_held_by_a_worker_killed_mid_run_finish_on_another_worker()
    {
        var stalling = host.StartWorker(new Dictionary<string, string> { ["Worker__HoldAfterClaimMs"] = "120000" });
        var ids = new List<Guid>();
        for (int i = 0; i < 4; i++)
        {
            var (response, job) = await host.Client.PostAsync("/v1/generations", $$"""{"count":2,"seed":{{31 + i}},"label":"dress"}""");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.Add(Guid.Parse(job.GetProperty("id").GetString()!));
        }
        await ServiceHost.WaitUntilAsync(async () => (await Task.WhenAll(ids.Select(Status))).All(s => s == "running"), Patience,
            "the first worker to claim all four jobs", host.Logs);

        // The other worker is up before the kill: the jobs stay with the first until its death frees them.
        using var healthy = host.StartWorker();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.All(await Task.WhenAll(ids.Select(Status)), s => Assert.Equal("running", s));
        stalling.Kill();
        await ServiceHost.WaitUntilAsync(async () => (await Task.WhenAll(ids.Select(Status))).All(s => s == "succeeded"), Patience,
            "the four jobs to finish on the other worker", host.Logs);

        foreach (var id in ids)
        {
            Assert.Equal(2, await host.ScalarAsync<int>("SELECT attempts FROM jobs WHERE id = @id", ("id", id)));
            Assert.EndsWith($":{healthy.Id}", await host.ScalarAsync<string>("SELECT worker FROM jobs WHERE id = @id", ("id", id)));
            Assert.Equal(2L, await host.ScalarAsync<long>("SELECT count(*) FROM job_outputs WHERE job_id = @id", ("id", id)));
            var (_, done) = await host.Client.GetJsonAsync($"/v1/jobs/{id}");
            Assert.Equal(2, done.GetProperty("outputs").GetArrayLength());
        }
        healthy.Stop(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Jobs_spread_across_workers_on_one_queue_none_runs_twice_and_a_worker_takes_only_its_queues()
    {
        // Two general workers and one that takes only video: each holds a job 300 ms after claiming it, so the
        // general ones overlap and both get work.
        var hold = new Dictionary<string, string> { ["Worker__HoldAfterClaimMs"] = "300", ["Worker__Concurrency"] = "2" };
        var a = host.StartWorker(hold);
        var b = host.StartWorker(hold);
        var videoOnly = host.StartWorker(new Dictionary<string, string>(hold) { ["Worker__Queues"] = "video" });
        var ids = new List<Guid>();
        for (int i = 0; i < 24; i++)
        {
            var (response, job) = await host.Client.PostAsync("/v1/generations", $$"""{"count":1,"seed":{{900 + i}}}""");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.Add(Guid.Parse(job.GetProperty("id").GetString()!));
        }
        await ServiceHost.WaitUntilAsync(async () => (await Task.WhenAll(ids.Select(Status))).All(s => s == "succeeded"), Patience,
            "the generations to finish", host.Logs);

        var perWorker = new Dictionary<string, int>();
        foreach (var id in ids)
        {
            Assert.Equal(1, await host.ScalarAsync<int>("SELECT attempts FROM jobs WHERE id = @id", ("id", id)));
            Assert.Equal(1L, await host.ScalarAsync<long>("SELECT count(*) FROM job_outputs WHERE job_id = @id", ("id", id)));
            // Started in exactly one worker's log: no job ran twice.
            Assert.Equal(1, new[] { a, b, videoOnly }.Count(w => w.Log().Contains($"Job {id} started")));
            string worker = (await host.ScalarAsync<string>("SELECT worker FROM jobs WHERE id = @id", ("id", id)))!;
            perWorker[worker] = perWorker.GetValueOrDefault(worker) + 1;
        }
        Assert.True(perWorker.Count == 2 && perWorker.Values.All(n => n >= 4), "jobs per worker: " + string.Join(", ", perWorker.Select(p => $"{p.Key} {p.Value}")));
        Assert.DoesNotContain(ids, id => videoOnly.Log().Contains($"Job {id} started"));
        Assert.Contains("Warmed 1 default model", videoOnly.Log());

        // With the general workers gone, the video-only worker runs a video.
        a.Stop(TimeSpan.FromSeconds(30));
        b.Stop(TimeSpan.FromSeconds(30));
        var (_, video) = await host.Client.PostAsync("/v1/videos", """{"seed":1,"frames":4}""", ("Prefer", "wait=30"));
        Assert.Equal("succeeded", video.GetProperty("status").GetString());
        Assert.Contains($"Job {video.GetProperty("id").GetString()} started", videoOnly.Log());
        videoOnly.Stop(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_worker_sent_sigterm_stops_taking_jobs_finishes_the_ones_it_holds_and_leaves_the_rest_to_another()
    {
        // Two Hangfire threads, each holding its job 4 s after the claim: the SIGTERM lands while both are held.
        var stopping = host.StartWorker(new Dictionary<string, string> { ["Worker__HoldAfterClaimMs"] = "4000", ["Worker__Concurrency"] = "2" });
        var ids = new List<Guid>();
        for (int i = 0; i < 6; i++)
        {
            var (response, job) = await host.Client.PostAsync("/v1/generations", $$"""{"count":1,"seed":{{500 + i}}}""");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.Add(Guid.Parse(job.GetProperty("id").GetString()!));
        }
        string[] held = [];
        await ServiceHost.WaitUntilAsync(async () =>
        {
            held = (await Task.WhenAll(ids.Select(async id => (id, status: await Status(id))))).Where(x => x.status == "running").Select(x => x.id.ToString()).ToArray();
            return held.Length == 2;
        }, Patience, "the first worker to hold two jobs", host.Logs);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        stopping.Stop(TimeSpan.FromSeconds(60));
        Assert.True(stopping.HasExited && clock.Elapsed < TimeSpan.FromSeconds(45), $"the worker took {clock.Elapsed.TotalSeconds:F0} s to stop");
        foreach (var id in held)
        {
            Assert.Equal("succeeded", await Status(Guid.Parse(id)));
            Assert.Equal(1, await host.ScalarAsync<int>("SELECT attempts FROM jobs WHERE id = @id", ("id", Guid.Parse(id))));
        }
        // It took nothing after the signal: the jobs it ran are the two it held.
        var ranThere = ids.Where(id => stopping.Log().Contains($"Job {id} started")).Select(id => id.ToString()).Order().ToArray();
        Assert.Equal(held.Order().ToArray(), ranThere);

        using var other = host.StartWorker();
        await ServiceHost.WaitUntilAsync(async () => (await Task.WhenAll(ids.Select(Status))).All(s => s == "succeeded"), Patience,
            "the other worker to run the rest", host.Logs);
        foreach (var id in ids)
            Assert.Equal(1L, await host.ScalarAsync<long>("SELECT count(*) FROM job_outputs WHERE job_id = @id", ("id", id)));
        other.Stop(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Job_written_but_never_enqueued_is_picked_up_by_the_reconciler()
    {
        using var worker = host.StartWorker();
        // The state an Api leaves when it dies between writing the row and enqueueing: queued, enqueued_at NULL.
        var id = await InsertQueuedJobAsync(enqueued: false, count: 3);
        await ServiceHost.WaitUntilAsync(async () => await Status(id) == "succeeded", Patience, "the reconciler to enqueue the stranded job", host.Logs);
        Assert.NotNull(await host.ScalarAsync<DateTime?>("SELECT enqueued_at FROM jobs WHERE id = @id", ("id", id)));
        Assert.Equal(3L, await host.ScalarAsync<long>("SELECT count(*) FROM job_outputs WHERE job_id = @id", ("id", id)));
        worker.Stop(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Job_delivered_twice_is_completed_once()
    {
        var id = await InsertQueuedJobAsync(enqueued: true, count: 2);
        GlobalConfiguration.Configuration.UseGanStorage(host.ConnectionString, new QueueOptions());
        var client = new BackgroundJobClient(JobStorage.Current);
        var first = client.Enqueue<IGenerationJob>("generation", j => j.RunAsync(id, CancellationToken.None));
        var second = client.Enqueue<IGenerationJob>("generation", j => j.RunAsync(id, CancellationToken.None));

        using var worker = host.StartWorker();
        await ServiceHost.WaitUntilAsync(async () =>
            await host.ScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE id IN (@a, @b) AND statename = 'Succeeded'",
                ("a", long.Parse(first)), ("b", long.Parse(second))) == 2, Patience, "both deliveries to be processed", host.Logs);

        Assert.Equal("succeeded", await Status(id));
        Assert.Equal(2L, await host.ScalarAsync<long>("SELECT count(*) FROM job_outputs WHERE job_id = @id", ("id", id)));
        var log = host.Logs(int.MaxValue);
        Assert.Equal(1, CountOccurrences(log, $"Job {id} succeeded"));
        worker.Stop(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Training_of_a_worker_killed_mid_run_resumes_from_its_checkpoint_on_the_next_worker()
    {
        var env = new Dictionary<string, string> { ["Worker__TrainingCheckpointSeconds"] = "1", ["Worker__OrphanSeconds"] = "5" };
        var first = host.StartWorker(env);
        var (response, job) = await host.Client.PostAsync("/v1/trainings",
            """{"dataset":"fashion-mnist","name":"progan-killed","latentDim":8,"fmapBase":32,"fmapMax":8,"stableKimg":3,"fadeKimg":0.016,"batchSize":16,"seed":3,"evaluate":false}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = Guid.Parse(job.GetProperty("id").GetString()!);
        var latest = Path.Combine(host.Scratch, "checkpoints", "jobs", id.ToString("N"), "latest");
        await ServiceHost.WaitUntilAsync(() => Task.FromResult(File.Exists(latest) && File.ReadAllText(latest).Trim() != "step-000000000"),
            Patience, "a checkpoint of the training", host.Logs);
        first.Kill();
        long saved = long.Parse(File.ReadAllText(latest).Trim()["step-".Length..]);
        Assert.True(saved > 0);
        Assert.Equal("running", await Status(id));

        using var second = host.StartWorker(env);
        await ServiceHost.WaitUntilAsync(async () => await Status(id) == "succeeded", TimeSpan.FromMinutes(4), "the training to finish on the next worker", host.Logs);

        var resumed = System.Text.RegularExpressions.Regex.Match(second.Log(), @"resumed from step (\d+)");
        Assert.True(resumed.Success, "the second worker did not resume from a checkpoint:\n" + second.Log());
        Assert.True(long.Parse(resumed.Groups[1].Value) >= saved, $"resumed at {resumed.Groups[1].Value}, the checkpoint seen before the kill was at {saved}");
        var (_, done) = await host.Client.GetJsonAsync($"/v1/jobs/{id}");
        Assert.InRange(done.GetProperty("detail").GetProperty("step").GetInt64(), 750, 760); // 12.05 kimg / 16
        Assert.False(Directory.Exists(Path.GetDirectoryName(latest)), "checkpoints are removed once the version is registered");
        Assert.Equal(1L, await host.ScalarAsync<long>("SELECT count(*) FROM models WHERE name = 'progan-killed'"));
        second.Stop(TimeSpan.FromSeconds(20));
    }

    [Theory]
    [InlineData(1, "succeeded")]
    [InlineData(3, "failed")]
    public async Task Job_left_running_by_a_vanished_worker_is_queued_again_or_failed_once_its_attempts_are_used(int attempts, string outcome)
    {
        // What a worker leaves when it dies after its last attempt failed and Postgres refused the failure mark:
        // running, owned by a worker with no heartbeat, and no longer held by Hangfire.
        var id = await InsertQueuedJobAsync(enqueued: true, count: 1);
        await host.ExecuteAsync("""
            UPDATE jobs SET status = 'running', worker = 'vanished-host:4242', attempts = @attempts,
                            started_at = now() - interval '1 hour', enqueued_at = now() - interval '1 hour'
            WHERE id = @id
            """, ("id", id), ("attempts", attempts));

        using var worker = host.StartWorker(new Dictionary<string, string> { ["Worker__OrphanSeconds"] = "5" });
        await ServiceHost.WaitUntilAsync(async () => await Status(id) == outcome, Patience, $"the orphaned job to become {outcome}", host.Logs);

        if (outcome == "succeeded")
        {
            Assert.Equal(attempts + 1, await host.ScalarAsync<int>("SELECT attempts FROM jobs WHERE id = @id", ("id", id)));
            Assert.Equal(1L, await host.ScalarAsync<long>("SELECT count(*) FROM job_outputs WHERE job_id = @id", ("id", id)));
        }
        else
        {
            var (_, job) = await host.Client.GetJsonAsync($"/v1/jobs/{id}");
            Assert.Contains("stopped responding", job.GetProperty("error").GetProperty("detail").GetString());
            Assert.Equal(0L, await host.ScalarAsync<long>("SELECT count(*) FROM job_outputs WHERE job_id = @id", ("id", id)));
        }
        worker.Stop(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Job_not_started_by_its_cancel_after_deadline_is_canceled_without_running()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/generations") { Content = Http.Json("""{"count":2,"seed":5}""") };
        request.Headers.Add("Cancel-After", "1");
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await Http.ReadAsync(response);
        var id = Guid.Parse(accepted.GetProperty("id").GetString()!);
        Assert.True(accepted.GetProperty("cancelAfter").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddSeconds(-5));

        await Task.Delay(1500); // no worker runs yet: the deadline passes while the job waits
        using var worker = host.StartWorker();
        await ServiceHost.WaitUntilAsync(async () => await Status(id) == "canceled", Patience, "the expired job to be canceled", host.Logs);

        var (_, job) = await host.Client.GetJsonAsync($"/v1/jobs/{id}");
        Assert.Equal("Deadline passed", job.GetProperty("error").GetProperty("title").GetString());
        Assert.Equal(0L, await host.ScalarAsync<long>("SELECT count(*) FROM job_outputs WHERE job_id = @id", ("id", id)));
        Assert.Null(await host.ScalarAsync<DateTime?>("SELECT started_at FROM jobs WHERE id = @id", ("id", id)));
        worker.Stop(TimeSpan.FromSeconds(20));
    }

    private static int CountOccurrences(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }

    private Task<string?> Status(Guid id) => host.ScalarAsync<string>("SELECT status FROM jobs WHERE id = @id", ("id", id));

    /// <summary>Writes a job row the way the Api does, for the default model and the bootstrap key.</summary>
    private async Task<Guid> InsertQueuedJobAsync(bool enqueued, int count)
    {
        var id = Guid.NewGuid();
        await host.ExecuteAsync("""
            INSERT INTO jobs (id, kind, status, api_key_id, model, model_version_id, model_version, input, progress, created_at, enqueued_at, attempts)
            SELECT @id, 'generation', 'queued', k.id, m.name, v.id, v.version, @input::jsonb, 0, now() - interval '3 seconds',
                   CASE WHEN @enqueued THEN now() END, 0
            FROM api_keys k, models m JOIN model_versions v ON v.id = m.current_version_id
            WHERE k.name = 'bootstrap' AND m.name = 'dcgan-fashion'
            """,
            ("id", id), ("input", $$"""{"count":{{count}},"seed":77,"label":"coat","truncation":1.0,"format":"png"}"""), ("enqueued", enqueued));
        return id;
    }
}
