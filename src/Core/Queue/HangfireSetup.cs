using GanService.Core.Jobs;
using Hangfire;
using Hangfire.PostgreSql;

namespace GanService.Core.Queue;

public static class HangfireSetup
{
    /// <summary>The storage settings both processes share: own schema, LISTEN/NOTIFY, sliding invisibility.</summary>
    public static IGlobalConfiguration UseGanStorage(this IGlobalConfiguration config, string connectionString, QueueOptions options) =>
        config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseFilter(new TraceContextFilter())
            .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(QueueConnection(connectionString, options)), new PostgreSqlStorageOptions
            {
                SchemaName = options.Schema,
                PrepareSchemaIfNecessary = true,
                EnableLongPolling = true,
                QueuePollInterval = TimeSpan.FromSeconds(options.PollIntervalSeconds),
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = TimeSpan.FromSeconds(options.InvisibilityTimeoutSeconds),
            });

    /// <summary>
    /// The connection string Hangfire gets: the queue's, with Npgsql's keepalive on (Queue:KeepAliveSeconds).
    /// </summary>
    /// <remarks>
    /// With long polling, each fetch starts a LISTEN task and, once it has claimed a job, cancels that task and waits for
    /// it without a timeout (Hangfire.PostgreSql 1.21.1, PostgreSqlJobQueue.Dequeue). Npgsql 10's wait for a
    /// notification with no read timeout can lose a cancel that arrives while it re-arms its read (npgsql#5975); the
    /// fetching thread then holds its claimed job, kept invisible by the sliding heartbeat, until that wait ends: at
    /// the next NOTIFY as a rule, though the bench saw some last tens of seconds with notifications arriving, and the
    /// reconciler re-delivers after Worker:StaleQueuedSeconds. With a keepalive the wait reads with a finite timeout
    /// and checks its token after each keepalive. bench/run-hangfire-fetch.sh measures both ways.
    /// </remarks>
    public static string QueueConnection(string connectionString, QueueOptions options)
    {
        // Npgsql's builder reports every keyword it knows as present, so a plain parse says whether the string sets it.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (options.KeepAliveSeconds == 0 || given.ContainsKey("Keepalive") || given.ContainsKey("Keep Alive")) return connectionString;
        return new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { KeepAlive = options.KeepAliveSeconds }.ConnectionString;
    }
}

/// <summary><see cref="IJobQueue"/> on Hangfire: the queue is named at the call, from the job's kind.</summary>
public sealed class HangfireJobQueue(IBackgroundJobClient client) : IJobQueue
{
    public string Enqueue(Guid jobId, string kind)
    {
        // The producer span of the trace the worker's consumer span continues (TraceContextFilter).
        using var activity = Telemetry.Source.StartActivity($"{Queues.ForKind(kind)} enqueue", System.Diagnostics.ActivityKind.Producer);
        activity?.SetTag("messaging.system", "hangfire");
        activity?.SetTag("messaging.destination.name", Queues.ForKind(kind));
        activity?.SetTag("ganservice.job_id", jobId.ToString());
        return EnqueueOn(jobId, kind);
    }

    private string EnqueueOn(Guid jobId, string kind) => kind switch
    {
        JobKinds.Generation => client.Enqueue<IGenerationJob>(Queues.ForKind(kind), j => j.RunAsync(jobId, CancellationToken.None)),
        JobKinds.Aging => client.Enqueue<IAgingJob>(Queues.ForKind(kind), j => j.RunAsync(jobId, CancellationToken.None)),
        JobKinds.TextToImage => client.Enqueue<ITextToImageJob>(Queues.ForKind(kind), j => j.RunAsync(jobId, CancellationToken.None)),
        JobKinds.Video => client.Enqueue<IVideoJob>(Queues.ForKind(kind), j => j.RunAsync(jobId, CancellationToken.None)),
        JobKinds.Training => client.Enqueue<ITrainingJob>(Queues.ForKind(kind), j => j.RunAsync(jobId, CancellationToken.None)),
        _ => throw new NotSupportedException($"No worker runs jobs of kind '{kind}' yet."),
    };
}
