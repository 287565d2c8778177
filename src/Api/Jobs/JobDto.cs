using System.Text.Json;
using System.Text.Json.Serialization;

namespace GanService.Api.Jobs;

/// <summary>A job as the API shows it.</summary>
/// <param name="Id">Job id.</param>
/// <param name="Kind">generation | aging | text-to-image | video | training.</param>
/// <param name="Status">queued | running | succeeded | failed | canceled.</param>
/// <param name="Model">Model name.</param>
/// <param name="ModelVersion">First 12 hex digits of the weights' sha256.</param>
/// <param name="Input">The validated input, with defaults filled in (the seed in particular).</param>
/// <param name="Progress">0..1.</param>
/// <param name="QueuePosition">Jobs of the same kind ahead of this one, while queued.</param>
/// <param name="Outputs">Signed, expiring links to the results.</param>
/// <param name="Error">An RFC 9457 problem object when the job failed.</param>
/// <param name="Device">Where it ran (cpu, cuda:0).</param>
/// <param name="CancelAfter">From the Cancel-After header: if the job has not started by then, it is canceled.</param>
/// <param name="Detail">Live figures of a long job: for a training its step, kimg, resolution, fade-in α, losses and
/// images/s, and once done the registered version. For a finished text-to-image job, what the text encoder read:
/// <c>promptTokens</c>, <c>unknownTokens</c> (pieces outside the vocabulary) and <c>truncated</c> (more than it reads).</param>
/// <param name="Webhook">Where this job's webhook deliveries go (GET /v1/jobs/{id}/webhooks lists them).</param>
/// <param name="WebhookEvents">Which events are sent: start, progress, completed.</param>
/// <param name="ExpiresAt">When the outputs' files will be deleted (Retention:OutputSeconds after completion).</param>
/// <param name="ExpiredAt">When they were deleted: outputs is then empty and old links answer 410.</param>
/// <param name="InputUrl">Signed link to the file the job was given (an aging job's uploaded face), kept as long as
/// the outputs.</param>
public sealed record JobDto(
    Guid Id,
    string Kind,
    string Status,
    string Model,
    string? ModelVersion,
    JsonElement Input,
    double Progress,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? QueuePosition,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<OutputDto> Outputs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Error,
    JobMetricsDto Metrics,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Device,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? CancelAfter = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Detail = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Webhook = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? WebhookEvents = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ExpiresAt = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ExpiredAt = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? InputUrl = null);

/// <param name="Url">Signed link, valid for Storage:LinkTtlSeconds.</param>
/// <param name="Seed">The seed this image was drawn from: request seed + index (an aging job's outputs carry its seed;
/// a text-to-image job's Stage-I images carry their final image's seed).</param>
/// <param name="Label">The class the image was conditioned on; for an aging job the gender the face was drawn with,
/// or <c>strip</c> for the strip of all ages; for a text-to-image job <c>stage-two</c> (a final image) or
/// <c>stage-one</c> (a 64 px Stage-I image: the final one of a model without Stage-II, or the one includeStageOne adds).</param>
/// <param name="AgeGroup">For an aging job: the age group this face is drawn at (absent on the strip).</param>
/// <param name="Frames">For a video (or mask video): its number of frames.</param>
public sealed record OutputDto(
    string Url,
    string ContentType,
    int Width,
    int Height,
    long Seed,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Label,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AgeGroup = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Frames = null);

/// <param name="QueueMs">From acceptance to the first start on a worker.</param>
/// <param name="RunMs">Time on the worker, model to stored files.</param>
/// <param name="BatchImages">Images in the forward pass that made the outputs: this job's plus those of jobs dynamically batched with it.</param>
public sealed record JobMetricsDto(long? QueueMs, long? RunMs, int? BatchImages);

/// <summary>A page of jobs, newest first.</summary>
/// <param name="NextCursor">Pass as ?cursor= for the next page; null on the last page.</param>
public sealed record JobPage(IReadOnlyList<JobDto> Items, string? NextCursor);
