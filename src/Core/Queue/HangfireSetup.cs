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
            .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString), new PostgreSqlStorageOptions
            {
                SchemaName = options.Schema,
                PrepareSchemaIfNecessary = true,
                EnableLongPolling = true,
                QueuePollInterval = TimeSpan.FromSeconds(options.PollIntervalSeconds),
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = TimeSpan.FromSeconds(options.InvisibilityTimeoutSeconds),
            });
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
