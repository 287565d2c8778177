using System.Text.Json;
using GanService.Core;
using GanService.Core.Data;
using GanService.Core.Queue;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GanService.Api.Infrastructure;

public static class Health
{
    public static IServiceCollection AddGanHealthChecks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHealthChecks()
            .AddNpgSql(configuration.PostgresConnectionString(), name: "postgres", tags: ["ready"], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<QueueHealthCheck>("queue", tags: ["ready"], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<WorkersHealthCheck>("workers", tags: ["ready"], timeout: TimeSpan.FromSeconds(3));
        return services;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = Write })
            .WithTags("Health").WithName("Live").WithSummary("The process is up");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = Write })
            .WithTags("Health").WithName("Ready")
            .WithSummary("Postgres and the queue answer (503 otherwise); lists the live workers and their devices (degraded, still 200, when none)");
        return app;
    }

    private static Task Write(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString().ToLowerInvariant(),
                description = e.Value.Description,
                data = e.Value.Data.Count == 0 ? null : e.Value.Data,
            }),
        }, JsonSerializerOptions.Web));
    }
}

/// <summary>The queue is ready when Hangfire's storage answers; it reports the worker servers and queue depth.</summary>
public sealed class QueueHealthCheck(JobStorage storage) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var monitor = storage.GetMonitoringApi();
            var servers = monitor.Servers();
            var queues = monitor.Queues().ToDictionary(q => q.Name, q => (object)q.Length);
            var data = new Dictionary<string, object> { ["workers"] = servers.Count, ["queued"] = queues };
            return Task.FromResult(HealthCheckResult.Healthy($"{servers.Count} worker process(es) connected", data));
        }
        catch (Exception e)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The queue storage does not answer: " + e.Message));
        }
    }
}

/// <summary>
/// Worker processes whose heartbeat is recent, with their device (GPU name and memory on CUDA) and loaded models.
/// None is "degraded", not unhealthy: jobs are still accepted and wait in the queue.
/// </summary>
public sealed class WorkersHealthCheck(GanDbContext db) : IHealthCheck
{
    public static readonly TimeSpan Fresh = TimeSpan.FromSeconds(30);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var since = DateTimeOffset.UtcNow - Fresh;
        var workers = await db.Workers.AsNoTracking().Where(w => w.HeartbeatAt > since).OrderBy(w => w.Id).ToListAsync(ct);
        var data = new Dictionary<string, object>
        {
            ["workers"] = workers.Select(w => new
            {
                id = w.Id, device = w.Device, deviceName = w.DeviceName, deviceMemoryBytes = w.DeviceMemoryBytes,
                queues = w.Queues, videoFormats = w.VideoFormats, concurrency = w.Concurrency, batching = w.Batching,
                loadedModels = JsonDocument.Parse(w.LoadedModels).RootElement.Clone(),
                startedAt = w.StartedAt, heartbeatAt = w.HeartbeatAt,
            }).ToList(),
        };
        return workers.Count == 0
            ? HealthCheckResult.Degraded($"No worker has reported in the last {Fresh.TotalSeconds:0} s; jobs are accepted and wait in the queue.", data: data)
            : HealthCheckResult.Healthy($"{workers.Count} worker(s): " + string.Join(", ", workers.Select(w => $"{w.Id} on {w.Device}")), data);
    }
}
