using System.Collections.Concurrent;
using System.Net;

namespace GanService.Api.Tests;

/// <summary>A host on a PostgreSQL of its own, which its test stops and starts again while clients submit.</summary>
public sealed class PostgresOutageHost : ServiceHost
{
    public PrivatePostgres Postgres { get; private set; } = null!;

    protected override async Task<string> ServerAsync()
    {
        Postgres = await PrivatePostgres.StartNewAsync();
        return Postgres.Server;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Postgres is not null) await Postgres.DisposeAsync();
    }
}

public sealed class PostgresOutageTests(PostgresOutageHost host) : IClassFixture<PostgresOutageHost>
{
    private sealed record Answer(DateTime At, HttpStatusCode Status, string? ContentType, bool RetryAfter, string Body);

    [Fact]
    public async Task Postgres_stopped_under_load_gives_503_problems_then_the_service_recovers_by_itself_and_every_accepted_job_runs_once()
    {
        using var client = host.NewClient(host.BootstrapKey);
        client.Timeout = TimeSpan.FromSeconds(30);
        var accepted = new ConcurrentDictionary<Guid, int>();
        var answers = new ConcurrentQueue<Answer>();
        using var stop = new CancellationTokenSource();
        int seed = 0;
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                int s = Interlocked.Increment(ref seed);
                try
                {
                    var (response, body) = await client.PostAsync("/v1/generations", $$"""{"count":1,"seed":{{s}}}""");
                    answers.Enqueue(new Answer(DateTime.UtcNow, response.StatusCode, response.Content.Headers.ContentType?.MediaType,
                        response.Headers.RetryAfter is not null, body.ToString()));
                    if (response.StatusCode == HttpStatusCode.Accepted) accepted[Guid.Parse(body.GetProperty("id").GetString()!)] = s;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    answers.Enqueue(new Answer(DateTime.UtcNow, 0, null, false, e.Message));
                }
                await Task.Delay(25);
            }
        })).ToArray();

        // Load first: some submissions accepted (a slow machine's first requests can take seconds), then the stop.
        await ServiceHost.WaitUntilAsync(() => Task.FromResult(accepted.Count >= 10), TimeSpan.FromSeconds(60), "ten accepted submissions", host.Logs);
        int acceptedBefore = accepted.Count;
        var down = DateTime.UtcNow;   // before: sessions die at once, pg_ctl returns only once the server has exited
        await host.Postgres.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        using (var probe = host.NewClient(null))   // as a load balancer probes: no key
        using (var ready = await probe.GetAsync("/health/ready"))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(5));
        await host.Postgres.StartAsync();
        var up = DateTime.UtcNow;

        // Nothing restarts the Api or the worker: the first 202 after the restart shows they reconnected by themselves.
        await ServiceHost.WaitUntilAsync(() => Task.FromResult(answers.Any(a => a.At > up && a.Status == HttpStatusCode.Accepted)),
            TimeSpan.FromSeconds(60), "a submission accepted after Postgres came back", host.Logs);
        await Task.Delay(TimeSpan.FromSeconds(2));
        stop.Cancel();
        await Task.WhenAll(clients);

        var all = answers.ToArray();
        var unexpected = all.Where(a => a.Status is not (HttpStatusCode.Accepted or HttpStatusCode.ServiceUnavailable)).ToArray();
        Assert.True(unexpected.Length == 0, "answers other than 202 and 503:\n" + string.Join("\n", unexpected.Take(5)) + "\n" + host.Logs());
        var outage = all.Where(a => a.Status == HttpStatusCode.ServiceUnavailable).ToArray();
        Assert.NotEmpty(outage);
        Assert.All(outage, a =>
        {
            Assert.Equal("application/problem+json", a.ContentType);
            Assert.True(a.RetryAfter, "a 503 without Retry-After");
            Assert.True(a.At > down, $"a 503 before Postgres was stopped: {a}");
        });
        Assert.True(acceptedBefore > 0 && all.Count(a => a.At > up && a.Status == HttpStatusCode.Accepted) > 0,
            $"accepted before the stop: {acceptedBefore}; after the restart: {all.Count(a => a.At > up && a.Status == HttpStatusCode.Accepted)}");

        // Every 202 is a job that finishes, with its one output, and the worker completed each exactly once.
        var ids = accepted.Keys.ToArray();
        await ServiceHost.WaitUntilAsync(async () => await host.ScalarAsync<long>(
                "SELECT count(*) FROM jobs WHERE id = ANY(@ids) AND status = 'succeeded'", ("ids", ids)) == ids.Length,
            TimeSpan.FromSeconds(120), $"all {ids.Length} accepted jobs to succeed", () => Unfinished(ids) + host.Logs());
        Assert.Equal((long)ids.Length, await host.ScalarAsync<long>("SELECT count(*) FROM job_outputs WHERE job_id = ANY(@ids)", ("ids", ids)));
        var log = host.Logs(int.MaxValue);
        var twice = ids.Where(id => CountOccurrences(log, $"Job {id} succeeded") != 1).ToArray();
        Assert.True(twice.Length == 0, $"jobs not completed exactly once: {string.Join(", ", twice.Take(5))}");
    }

    /// <summary>The rows of the jobs that have not succeeded, for the failure message (a fresh-clone CI run once timed
    /// out here with nothing else to go on).</summary>
    private string Unfinished(Guid[] ids)
    {
        using var conn = new Npgsql.NpgsqlConnection(host.ConnectionString);
        conn.Open();
        using var cmd = new Npgsql.NpgsqlCommand("""
            SELECT id, status, attempts, enqueued_at, started_at, worker FROM jobs WHERE id = ANY(@ids) AND status <> 'succeeded' ORDER BY created_at LIMIT 20
            """, conn);
        cmd.Parameters.AddWithValue("ids", ids);
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(string.Join(" ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return "--- unfinished jobs (id status attempts enqueued_at started_at worker)\n" + string.Join("\n", rows) + "\n";
    }

    private static int CountOccurrences(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
