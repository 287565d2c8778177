using System.Net;
using System.Text.RegularExpressions;

namespace GanService.Api.Tests;

/// <summary>A host whose Hangfire queue lives in a database of its own (ConnectionStrings__Queue).</summary>
public sealed class SplitQueueHost : ServiceHost
{
    public string QueueDatabase { get; } = "gs_queue_" + Guid.NewGuid().ToString("N")[..12];
    public string QueueConnectionString { get; private set; } = "";

    protected override async Task BeforeMigrateAsync() => QueueConnectionString = await CreateDatabaseAsync(QueueDatabase);

    protected override IReadOnlyDictionary<string, string> ExtraEnv => new Dictionary<string, string>
    {
        ["ConnectionStrings__Queue"] = QueueConnectionString,
    };

    public Task<T?> QueueScalarAsync<T>(string sql, params (string Name, object Value)[] parameters) =>
        ScalarOnAsync<T>(QueueConnectionString, sql, parameters);
}

[CollectionDefinition(Name)]
public sealed class SplitQueueCollection : ICollectionFixture<SplitQueueHost>
{
    public const string Name = "split-queue";
}

/// <summary>
/// The queue can move to its own database, the first split the capacity model recommends: jobs, outputs and keys stay
/// where they are, Hangfire's tables and traffic go to ConnectionStrings__Queue.
/// </summary>
[Collection(SplitQueueCollection.Name)]
public sealed class QueueDatabaseTests(SplitQueueHost host)
{
    private const string HangfireSchemaCount = "SELECT count(*) FROM pg_namespace WHERE nspname = 'hangfire'";

    [Fact]
    public async Task Hangfire_lives_in_the_queue_database_and_jobs_still_run_and_finish()
    {
        // migrate installed Hangfire's schema in the queue database only.
        Assert.Equal(1L, await host.QueueScalarAsync<long>(HangfireSchemaCount));
        Assert.Equal(0L, await host.ScalarAsync<long>(HangfireSchemaCount));

        var job = await host.Client.GenerateAsync("""{"count":2,"seed":41}""");
        var id = job.GetProperty("id").GetString()!;
        Assert.Equal(2, job.GetProperty("outputs").GetArrayLength());
        Assert.Equal("succeeded", await host.ScalarAsync<string>("SELECT status FROM jobs WHERE id = @id", ("id", Guid.Parse(id))));
        // The Hangfire job that carried it is in the queue database; Hangfire marks it succeeded just after our row.
        await ServiceHost.WaitUntilAsync(async () => await host.QueueScalarAsync<long>(
                "SELECT count(*) FROM hangfire.job WHERE arguments::text LIKE @id AND statename = 'Succeeded'", ("id", $"%{id}%")) == 1,
            TimeSpan.FromSeconds(30), "the Hangfire job to be marked succeeded in the queue database");

        // Readiness reads the queue (Hangfire's monitoring API) from the queue database and sees the worker's server.
        var (response, health) = await host.Client.SendAsync(HttpMethod.Get, "/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var queue = health.GetProperty("checks").GetProperty("queue");
        Assert.Equal("healthy", queue.GetProperty("status").GetString());
        Assert.True(queue.GetProperty("data").GetProperty("workers").GetInt32() >= 1, queue.ToString());

        // So is the queue-depth gauge (absent if the read failed).
        var scrape = await host.Client.GetStringAsync("/metrics");
        Assert.Matches(new Regex(@"^ganservice_queue_depth\{[^}]*queue=""generation""[^}]*\} 0(\s|$)", RegexOptions.Multiline), scrape);
    }

    [Fact]
    public void Hangfire_connects_with_a_keepalive_unless_the_connection_string_or_the_option_says_otherwise()
    {
        static int KeepAlive(string cs, int seconds) => new Npgsql.NpgsqlConnectionStringBuilder(
            GanService.Core.Queue.HangfireSetup.QueueConnection(cs, new GanService.Core.Queue.QueueOptions { KeepAliveSeconds = seconds })).KeepAlive;
        const string Plain = "Host=127.0.0.1;Port=5432;Username=postgres;Database=gs";
        Assert.Equal(1, KeepAlive(Plain, new GanService.Core.Queue.QueueOptions().KeepAliveSeconds));   // the default
        Assert.Equal(3, KeepAlive(Plain, 3));
        Assert.Equal(0, KeepAlive(Plain, 0));
        Assert.Equal(7, KeepAlive(Plain + ";Keepalive=7", 3));
        Assert.Equal(0, KeepAlive(Plain + ";keepalive=0", 3));   // set by the operator: off stays off
        Assert.Equal("gs", new Npgsql.NpgsqlConnectionStringBuilder(GanService.Core.Queue.HangfireSetup.QueueConnection(Plain, new())).Database);
    }
}
