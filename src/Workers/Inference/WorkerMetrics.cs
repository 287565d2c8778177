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
public sealed class WorkerMetrics(ModelCache cache, InferenceExecutor executor, ILogger<WorkerMetrics> log) : IHostedService
{
    private readonly List<object> instruments = [];
    private (DateTime At, long Used, long Total)? gpu;

    public static void AddWorkerTelemetry(IServiceCollection services, IConfiguration configuration)
    {
        var worker = configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>() ?? new WorkerOptions();
        services.AddGanTelemetry(configuration, "ganservice-worker").WithMetrics(m =>
        {
            if (worker.MetricsPort > 0)
                m.AddPrometheusHttpListener(o =>
                {
                    o.Port = worker.MetricsPort;
                    if (worker.MetricsHost is "*" or "+" or "0.0.0.0")
                    {
                        // Every interface (a pod's scrape port). The exporter builds its prefix as a Uri, which "*" is not
                        // (seen: the worker died at start with "Invalid URI: The hostname could not be parsed"), so it
                        // gets a host it accepts and the listener is then given HttpListener's own wildcard prefix.
                        o.Host = "localhost";
                        o.ConfigureHttpListener = (_, listener) =>
                        {
                            listener.Prefixes.Clear();
                            listener.Prefixes.Add($"http://*:{worker.MetricsPort}/");
                        };
                    }
                    else o.Host = worker.MetricsHost;
                });
        });
        services.AddHostedService<WorkerMetrics>();
    }

    public Task StartAsync(CancellationToken ct)
    {
        instruments.Add(Telemetry.Meter.CreateObservableCounter("ganservice.model_cache.hits", () => cache.Stats.Hits, "{lookup}", "Model lookups served from the cache."));
        instruments.Add(Telemetry.Meter.CreateObservableCounter("ganservice.model_cache.misses", () => cache.Stats.Misses, "{lookup}", "Model lookups that loaded weights."));
        instruments.Add(Telemetry.Meter.CreateObservableCounter("ganservice.model_cache.evictions", () => cache.Stats.Evictions, "{model}", "Models unloaded to stay within the budget."));
        instruments.Add(Telemetry.Meter.CreateObservableGauge("ganservice.model_cache.loaded", () => cache.LoadedBytes, "By", "Parameters and buffers of the loaded models."));
        if (executor.Device.type == TorchSharp.DeviceType.CUDA)
        {
            instruments.Add(Telemetry.Meter.CreateObservableGauge("ganservice.gpu.memory.used", () => Gpu()?.Used ?? 0, "By", "GPU memory in use (nvidia-smi), all processes."));
            instruments.Add(Telemetry.Meter.CreateObservableGauge("ganservice.gpu.memory.total", () => Gpu()?.Total ?? 0, "By", "GPU memory (nvidia-smi)."));
        }
        return Task.CompletedTask;
    }

    /// <summary>The worker's GPU memory from nvidia-smi, read at most every 5 s (a scrape asks for both gauges).</summary>
    private (DateTime At, long Used, long Total)? Gpu()
    {
        if (gpu is { } cached && DateTime.UtcNow - cached.At < TimeSpan.FromSeconds(5)) return cached;
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("nvidia-smi", $"--query-gpu=memory.used,memory.total --format=csv,noheader,nounits -i {executor.Device.index}")
                { RedirectStandardOutput = true };
            using var smi = System.Diagnostics.Process.Start(psi)!;
            var parts = smi.StandardOutput.ReadToEnd().Trim().Split(',', StringSplitOptions.TrimEntries);
            smi.WaitForExit(5000);
            gpu = (DateTime.UtcNow, long.Parse(parts[0]) * 1048576, long.Parse(parts[1]) * 1048576);
        }
        catch (Exception e)
        {
            log.LogDebug("nvidia-smi gave no memory figures: {Message}", e.Message);
        }
        return gpu;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
