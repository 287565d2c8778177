using System.Diagnostics.Metrics;
using GanService.Core;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace GanService.Workers.Inference;

/// <summary>
/// The worker's telemetry: GanService's job, batch and output instruments (recorded where they happen), plus the
/// model cache read at each scrape. Prometheus scrapes <c>http://{Worker:MetricsHost}:{Worker:MetricsPort}/metrics</c>
/// when the port is set.
/// </summary>
public sealed class WorkerMetrics(ModelCache cache) : IHostedService
{
    private readonly List<object> instruments = [];

    public static void AddWorkerTelemetry(IServiceCollection services, IConfiguration configuration)
    {
        var worker = configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>() ?? new WorkerOptions();
        services.AddGanTelemetry(configuration, "ganservice-worker").WithMetrics(m =>
        {
            if (worker.MetricsPort > 0)
                m.AddPrometheusHttpListener(o => { o.Host = worker.MetricsHost; o.Port = worker.MetricsPort; });
        });
        services.AddHostedService<WorkerMetrics>();
    }

    public Task StartAsync(CancellationToken ct)
    {
        instruments.Add(Telemetry.Meter.CreateObservableCounter("ganservice.model_cache.hits", () => cache.Stats.Hits, "{lookup}", "Model lookups served from the cache."));
        instruments.Add(Telemetry.Meter.CreateObservableCounter("ganservice.model_cache.misses", () => cache.Stats.Misses, "{lookup}", "Model lookups that loaded weights."));
        instruments.Add(Telemetry.Meter.CreateObservableCounter("ganservice.model_cache.evictions", () => cache.Stats.Evictions, "{model}", "Models unloaded to stay within the budget."));
        instruments.Add(Telemetry.Meter.CreateObservableGauge("ganservice.model_cache.loaded", () => cache.LoadedBytes, "By", "Parameters and buffers of the loaded models."));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
