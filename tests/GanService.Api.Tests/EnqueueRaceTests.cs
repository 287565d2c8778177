namespace GanService.Api.Tests;

/// <summary>A host whose API waits 3.5 s between writing a job's row and enqueueing it: longer than the reconciler's
/// grace (2 s in tests), so the reconciler's sweep for rows never enqueued reaches the row first.</summary>
public sealed class SlowEnqueueHost : ServiceHost
{
    protected override IReadOnlyDictionary<string, string> ExtraEnv => new Dictionary<string, string>
    {
        ["Api__HoldBeforeEnqueueMs"] = "3500",
    };
}

[CollectionDefinition(Name)]
public sealed class SlowEnqueueCollection : ICollectionFixture<SlowEnqueueHost>
{
    public const string Name = "slow-enqueue";
}

[Collection(SlowEnqueueCollection.Name)]
public sealed class EnqueueRaceTests(SlowEnqueueHost host)
{
    [Fact]
    public async Task A_job_the_reconciler_enqueued_first_is_not_enqueued_again_by_the_api_and_runs_once()
    {
        var job = await host.Client.GenerateAsync("""{"count":3,"seed":77}""");
        var id = job.GetProperty("id").GetString()!;

        // The race happened: the reconciler found the row without enqueued_at and enqueued it.
        Assert.Contains($"Job {id} was accepted but never queued; enqueued it now", host.Logs(200_000));
        // The API, once its hold was over, found the row stamped and left it: one delivery, one run, one batch of its own.
        Assert.Equal(1L, await host.ScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE arguments::text LIKE @id", ("id", $"%{id}%")));
        Assert.Equal(1, await host.ScalarAsync<int>("SELECT attempts FROM jobs WHERE id = @id", ("id", Guid.Parse(id))));
        Assert.Equal(3, job.GetProperty("metrics").GetProperty("batchImages").GetInt32());
    }
}
