using System.Diagnostics.Metrics;
using GanService.Core;
using GanService.Core.Data;
using GanService.Core.Jobs;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace GanService.Api.Infrastructure;

/// <summary>
/// The Api's telemetry: ASP.NET Core request spans and metrics, GanService's own (jobs accepted), and at each scrape
/// the depth of every Hangfire queue and the queued and running jobs per kind (what an autoscaler on queue depth
/// reads). Prometheus scrapes <c>GET /metrics</c>.
/// </summary>
public static class Metrics
{
    public static IServiceCollection AddApiTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddGanTelemetry(configuration, "ganservice-api")
            .WithTracing(t => t.AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/metrics")))
            // No scrape cache (the exporter's default keeps a response 300 ms): two scrapes around a fast job read the
            // same counters otherwise (seen: MetricsTests' jobs_submitted_total still 8 after two more submissions).
            .WithMetrics(m => m.AddAspNetCoreInstrumentation().AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        services.AddHostedService<QueueGauges>();
        return services;
    }

    /// <summary>GET /metrics in the Prometheus text format, without a key (expose it to the scraper only, not through the ingress).</summary>
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    /// <summary>Observable gauges read at scrape time: Hangfire's enqueued count per queue, and jobs queued/running per kind.</summary>
    private sealed class QueueGauges(IServiceScopeFactory scopes, ILogger<QueueGauges> log) : IHostedService
    {
        private ObservableGauge<long>? depth, active;

        public Task StartAsync(CancellationToken ct)
        {
            depth = Telemetry.Meter.CreateObservableGauge("ganservice.queue.depth", QueueDepth, "{job}", "Jobs waiting in each Hangfire queue.");
            active = Telemetry.Meter.CreateObservableGauge("ganservice.jobs.active", ActiveJobs, "{job}", "Jobs queued or running, per kind.");
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

        private IEnumerable<Measurement<long>> QueueDepth()
        {
            var queues = Queues.Inference.Append(Queues.ForKind(JobKinds.Training)).ToArray();
            var counts = new List<Measurement<long>>();
            try
            {
                var monitor = JobStorage.Current.GetMonitoringApi();
                foreach (var q in queues) counts.Add(new Measurement<long>(monitor.EnqueuedCount(q), Telemetry.Tag("queue", q)));
            }
            catch (Exception e) { log.LogWarning("Queue depth unavailable for the metrics scrape: {Message}", e.Message); }
            return counts;
        }

        private IEnumerable<Measurement<long>> ActiveJobs()
        {
            try
            {
                using var scope = scopes.CreateScope();
                var db = scope.ServiceProvider.GetRequiredService<GanDbContext>();
                var rows = db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Queued || j.Status == JobStatus.Running)
                    .GroupBy(j => new { j.Kind, j.Status }).Select(g => new { g.Key.Kind, g.Key.Status, Count = g.LongCount() }).ToList();
                return JobKinds.All.SelectMany(kind => new[] { JobStatus.Queued, JobStatus.Running }.Select(status =>
                    new Measurement<long>(rows.FirstOrDefault(r => r.Kind == kind && r.Status == status)?.Count ?? 0,
                        Telemetry.Tag("kind", kind), Telemetry.Tag("status", status)))).ToList();
            }
            catch (Exception e)
            {
                log.LogWarning("Active job counts unavailable for the metrics scrape: {Message}", e.Message);
                return [];
            }
        }
    }
}
