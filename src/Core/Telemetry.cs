using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace GanService.Core;

/// <summary>
/// GanService's own traces and metrics (OpenTelemetry names; the Prometheus exporters turn <c>ganservice.jobs.finished</c>
/// into <c>ganservice_jobs_finished_total</c>, a histogram in seconds into <c>…_seconds_bucket</c>). The Api counts what
/// it accepts and reports the queue depth; workers count what they finish, how long jobs waited and ran, batch sizes
/// and the model cache.
/// </summary>
public static class Telemetry
{
    public const string Name = "GanService";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    /// <summary>Jobs written and enqueued by the Api. Tags: kind, model.</summary>
    public static readonly Counter<long> JobsSubmitted = Meter.CreateCounter<long>("ganservice.jobs.submitted", "{job}", "Jobs accepted by the API.");

    /// <summary>Jobs that reached a terminal status on a worker. Tags: kind, model, status (succeeded, failed).</summary>
    public static readonly Counter<long> JobsFinished = Meter.CreateCounter<long>("ganservice.jobs.finished", "{job}", "Jobs finished by a worker.");

    /// <summary>From acceptance to a worker's first start. Tags: kind.</summary>
    public static readonly Histogram<double> PickupSeconds = Meter.CreateHistogram<double>("ganservice.job.pickup", "s", "Time from acceptance to the first start on a worker.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });

    /// <summary>A successful run on a worker, model to stored files. Tags: kind, model.</summary>
    public static readonly Histogram<double> RunSeconds = Meter.CreateHistogram<double>("ganservice.job.run", "s", "Time a worker spent on a successful run.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600] });

    /// <summary>Images (or video frames) in each forward pass the device thread ran. Tags: model.</summary>
    public static readonly Histogram<long> BatchImages = Meter.CreateHistogram<long>("ganservice.batch.images", "{image}", "Images in one forward pass (dynamic batching).",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });

    /// <summary>Files a worker stored (images, videos, masks); its rate is images per second. Tags: kind, model.</summary>
    public static readonly Counter<long> Outputs = Meter.CreateCounter<long>("ganservice.outputs", "{file}", "Output files stored by workers.");

    public static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);

    /// <summary>A worker claimed a job: its first start records how long it waited.</summary>
    public static void JobStarted(string kind, int attempt, DateTimeOffset createdAt, DateTimeOffset startedAt)
    {
        if (attempt == 1) PickupSeconds.Record(Math.Max(0, (startedAt - createdAt).TotalSeconds), Tag("kind", kind));
    }

    /// <summary>A worker finished a job for good: succeeded (with its run time and files) or failed.</summary>
    public static void JobFinished(string kind, string model, string status, double? runSeconds = null, int outputs = 0)
    {
        JobsFinished.Add(1, Tag("kind", kind), Tag("model", model), Tag("status", status));
        if (runSeconds is double s) RunSeconds.Record(s, Tag("kind", kind), Tag("model", model));
        if (outputs > 0) Outputs.Add(outputs, Tag("kind", kind), Tag("model", model));
    }

    /// <summary>
    /// OpenTelemetry for a process: resource service.name = <paramref name="service"/>, our ActivitySource and Meter,
    /// outgoing HTTP (webhooks, S3) and Npgsql spans, runtime metrics; traces and metrics also go to an OTLP collector
    /// when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. The caller adds its Prometheus exporter and its own instrumentation.
    /// </summary>
    public static OpenTelemetryBuilder AddGanTelemetry(this IServiceCollection services, IConfiguration configuration, string service)
    {
        bool otlp = !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        return services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(service, serviceNamespace: "ganservice", serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}"))
            .WithTracing(t =>
            {
                t.AddSource(Name).AddHttpClientInstrumentation().AddNpgsql();
                if (otlp) t.AddOtlpExporter();
            })
            .WithMetrics(m =>
            {
                m.AddMeter(Name).AddRuntimeInstrumentation();
                if (otlp) m.AddOtlpExporter();
            });
    }
}
