using GanService.Core;
using GanService.Core.Jobs;
using GanService.Core.Queue;
using GanService.Workers.Inference;
using GanService.Workers.Jobs;
using Hangfire;
using Microsoft.Extensions.Options;
using Serilog;

namespace GanService.Workers;

public static class Extensions
{
    public static HostApplicationBuilder AddWorkerLogging(this HostApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, lc) => lc.ConfigureGan(builder.Configuration, "worker"));
        return builder;
    }

    /// <summary>The worker host: Hangfire server on the job queues, the device executor, the model cache, the reconciler.</summary>
    public static HostApplicationBuilder AddWorkerServices(this HostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddGanCore(builder.Configuration);
        WorkerMetrics.AddWorkerTelemetry(services, builder.Configuration);
        services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section)
            .Validate(o => o.Concurrency is > 0 and <= 256, "Worker:Concurrency must be 1..256.")
            .Validate(o => o.MaxAttempts is > 0 and <= 20, "Worker:MaxAttempts must be 1..20.")
            .Validate(o => o.InferenceQueues() is not null, $"Worker:Queues may name only {string.Join(", ", Queues.Inference)}.")
            .Validate(o => o.Batching.Validate() is null, "Worker:Batching sizes must be 1..4096 and delays 0..10000 ms.")
            .ValidateOnStart();
        services.AddSingleton<InferenceExecutor>();
        services.AddSingleton<ModelCache>();
        services.AddSingleton<VersionCatalog>();
        services.AddScoped<IGenerationJob, GenerationJob>();
        services.AddScoped<IAgingJob, AgingJob>();
        services.AddScoped<ITextToImageJob, TextToImageJob>();
        services.AddScoped<IVideoJob, VideoJob>();
        // The host waits for Hangfire, which waits for the jobs in their grace period (WorkerOptions.ShutdownGraceSeconds).
        services.AddOptions<HostOptions>().Configure<IOptions<WorkerOptions>>((host, worker) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(worker.Value.ShutdownGraceSeconds + 15));
        services.AddScoped<ITrainingJob, TrainingJob>();
        services.AddScoped<IJobQueue, HangfireJobQueue>();
        services.AddHostedService<Reconciler>();
        services.AddHostedService<WorkerPresence>();
        services.AddHostedService<Webhooks.WebhookDispatcher>();
        services.AddHostedService<RetentionSweeper>();

        var queueOptions = builder.Configuration.GetSection(QueueOptions.Section).Get<QueueOptions>() ?? new QueueOptions();
        services.AddHangfire(c => c.UseGanStorage(builder.Configuration.QueueConnectionString(), queueOptions));
        services.AddHangfireServer((sp, o) =>
        {
            var worker = sp.GetRequiredService<IOptions<WorkerOptions>>().Value;
            o.Queues = worker.InferenceQueues() ?? Queues.Inference;
            o.WorkerCount = worker.Concurrency;
            o.ServerName = WorkerPresence.Id;
            o.ShutdownTimeout = TimeSpan.FromSeconds(worker.ShutdownGraceSeconds + 10);
        });
        // Trainings hold a Hangfire thread for minutes to hours: their own server, so they never starve generation.
        if (builder.Configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>()?.TrainingConcurrency is not 0)
            services.AddHangfireServer((sp, o) =>
            {
                o.Queues = [Queues.ForKind(JobKinds.Training)];
                o.WorkerCount = Math.Max(1, sp.GetRequiredService<IOptions<WorkerOptions>>().Value.TrainingConcurrency);
                o.ServerName = WorkerPresence.Id + ":training";
                o.ShutdownTimeout = TimeSpan.FromSeconds(30);
            });
        return builder;
    }
}
