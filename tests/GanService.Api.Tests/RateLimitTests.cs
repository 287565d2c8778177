using System.Net;

namespace GanService.Api.Tests;

/// <summary>A host of its own with tight per-key limits and no worker, so queued jobs stay queued.</summary>
public sealed class RateLimitHost : ServiceHost
{
    protected override IReadOnlyDictionary<string, string> ExtraEnv => new Dictionary<string, string>
    {
        ["Api__RateLimitPerSecond"] = "2",
        ["Api__RateLimitBurst"] = "4",
        ["Api__MaxQueuedJobsPerKey"] = "3",
    };

    protected override bool StartWorkerAtOnce => false;
}

[CollectionDefinition(Name)]
public sealed class RateLimitCollection : ICollectionFixture<RateLimitHost>
{
    public const string Name = "rate-limits";
}

[Collection(RateLimitCollection.Name)]
public sealed class RateLimitTests(RateLimitHost host)
{
    [Fact]
    public async Task A_key_over_its_rate_gets_429_problems_with_retry_after_and_other_keys_are_unaffected()
    {
        var a = await host.InsertKeyAsync("burst-a", "jobs");
        var b = await host.InsertKeyAsync("burst-b", "jobs");
        using var clientA = host.NewClient(a.Key);
        using var clientB = host.NewClient(b.Key);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => clientA.GetAsync("/v1/models")));
        double seconds = clock.Elapsed.TotalSeconds;
        int ok = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(12, ok + refused.Count);
        // The burst of 4, plus what refilled at 2/s while the requests were in flight.
        Assert.InRange(ok, 4, 4 + (int)Math.Ceiling(2 * seconds) + 1);
        Assert.NotEmpty(refused);
        foreach (var r in refused)
        {
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            Assert.True(int.Parse(r.Headers.GetValues("Retry-After").Single()) >= 1);
            var body = await Http.ReadAsync(r);
            Assert.Equal(429, body.GetProperty("status").GetInt32());
            Assert.Contains("2 requests per second", body.GetProperty("detail").GetString());
        }
        Assert.Equal(HttpStatusCode.OK, (await clientB.GetAsync("/v1/models")).StatusCode);
        // Anonymous routes are not limited by anyone's bucket.
        using var anonymous = host.NewClient(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task A_key_with_its_maximum_of_queued_jobs_gets_429_and_nothing_is_written()
    {
        var key = await host.InsertKeyAsync("queue-cap", "jobs");
        using var client = host.NewClient(key.Key);
        for (int i = 0; i < 3; i++)
        {
            var (accepted, _) = await client.PostAsync("/v1/generations", $$"""{"count":1,"seed":{{i}}}""");
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            await Task.Delay(600); // stay under 2 requests/s
        }
        var (response, body) = await client.PostAsync("/v1/generations", """{"count":1,"seed":9}""");
        Http.AssertProblem(response, body, HttpStatusCode.TooManyRequests);
        Assert.Contains("3 queued jobs", body.GetProperty("detail").GetString());
        Assert.Equal("5", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal(3L, await host.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE api_key_id = @k", ("k", key.Id)));
    }
}
