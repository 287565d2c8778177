using System.Text.Json;
using System.Text.Json.Serialization;
using GanService.Core.Data;
using GanService.Core.Storage;
using GanService.Core.Webhooks;

namespace GanService.Workers.Webhooks;

/// <summary>
/// A delivery's body: {"type": "job.completed", "timestamp": event time, "data": the job}. "data" has the fields of
/// GET /v1/jobs/{id} that a receiver acts on, with output links signed when the body is made (the first attempt);
/// a receiver that acts later fetches the job for fresh links.
/// </summary>
public static class WebhookPayload
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerOptions.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public sealed record Body(string Type, DateTimeOffset Timestamp, JobData Data);

    public sealed record JobData(
        Guid Id, string Kind, string Status, double Progress, string Model, string? ModelVersion, DateTimeOffset CreatedAt,
        DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, IReadOnlyList<Output> Outputs, JsonElement? Error, JsonElement? Detail, string Url);

    public sealed record Output(string Url, string ContentType, int Width, int Height, long Seed, string? Label, string? AgeGroup);

    public static string Build(WebhookDelivery delivery, Job job, BlobLinks links, string? publicBaseUrl)
    {
        var baseUrl = publicBaseUrl?.TrimEnd('/') ?? "";
        // Links are signed once, for Storage:LinkTtlSeconds; a receiver acting later fetches the job for fresh ones.
        var outputs = JobBlobs.Links(job, links, baseUrl)
            .Select(l => new Output(l.Url, l.Output.ContentType, l.Output.Width, l.Output.Height, l.Output.Seed, l.Output.Label, l.Output.AgeGroup)).ToList();
        var data = new JobData(job.Id, job.Kind, job.Status, job.Progress, job.Model, job.ModelVersion, job.CreatedAt, job.StartedAt,
            job.CompletedAt, outputs, Parse(job.Error), Parse(job.Detail), $"{baseUrl}/v1/jobs/{job.Id}");
        return JsonSerializer.Serialize(new Body(WebhookEvents.TypeOf(delivery.Event), delivery.CreatedAt, data), Json);
    }

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
