using System.Text.Json;
using GanService.Core;
using GanService.Core.Queue;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GanService.Api.Infrastructure;

public static class Health
{
    public static IServiceCollection AddGanHealthChecks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHealthChecks()
            .AddNpgSql(configuration.PostgresConnectionString(), name: "postgres", tags: ["ready"], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<QueueHealthCheck>("queue", tags: ["ready"], timeout: TimeSpan.FromSeconds(3));
        return services;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = Write })
            .WithTags("Health").WithName("Live").WithSummary("The process is up");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = Write })
            .WithTags("Health").WithName("Ready").WithSummary("Postgres and the queue answer (503 otherwise)");
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
