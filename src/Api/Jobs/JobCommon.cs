using System.Text.Json;
using GanService.Api.Auth;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Webhooks;

namespace GanService.Api.Jobs;

/// <summary>
/// What every job-creating POST takes besides its own fields (the Idempotency-Key and Cancel-After headers, the
/// <c>webhook</c> and <c>webhookEvents</c> fields), checked in one place, and the queued job each POST builds with it.
/// </summary>
public sealed record JobCommon(string? IdempotencyKey, DateTimeOffset? Deadline, JobWebhookFields.Choice Hook)
{
    /// <summary>Checks the shared headers and fields, adding what is wrong to <paramref name="errors"/>.</summary>
    public static async Task<JobCommon> ValidateAsync(string? idempotencyKey, string? cancelAfter, string? webhook, string[]? webhookEvents,
        WebhookTargets targets, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        if (idempotencyKey is { Length: 0 or > 255 }) errors["Idempotency-Key"] = ["Idempotency-Key must be 1..255 characters."];
        var deadline = JobHeaders.CancelAfter(cancelAfter, errors);
        var hook = await JobWebhookFields.ValidateAsync(webhook, webhookEvents, targets, errors, ct);
        return new JobCommon(idempotencyKey, deadline, hook);
    }

    /// <summary>
    /// A queued job of <paramref name="kind"/> for the caller's key, its input as JSON, with the deadline and the webhook.
    /// <paramref name="model"/> is the served model the job runs (its version is pinned now); a training passes null and
    /// names the model it will make.
    /// </summary>
    public Job NewJob<TInput>(string kind, HttpContext http, string modelName, ModelInfo? model, TInput input)
    {
        var job = new Job
        {
            Kind = kind,
            Status = JobStatus.Queued,
            ApiKeyId = http.User.KeyId(),
            Model = modelName,
            ModelVersionId = model?.VersionId,
            ModelVersion = model?.Version,
            Input = JsonSerializer.Serialize(input, JsonSerializerOptions.Web),
            CancelAfter = Deadline,
        };
        Hook.ApplyTo(job);
        return job;
    }
}
