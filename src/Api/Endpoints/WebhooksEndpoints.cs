using GanService.Api.Auth;
using GanService.Api.Jobs;
using GanService.Core.Auth;
using GanService.Core.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace GanService.Api.Endpoints;

/// <param name="Secret">"whsec_" + base64 of 32 bytes. Receivers check webhook-signature ("v1," + base64 HMAC-SHA256,
/// keyed with the base64-decoded part, over "{webhook-id}.{webhook-timestamp}.{body}"), as Standard Webhooks libraries do.</param>
public sealed record WebhookSecretDto(string Secret);

/// <summary>One event of a job sent (or being sent) to its webhook.</summary>
/// <param name="Id">The webhook-id header; the same on every attempt.</param>
/// <param name="Event">start | progress | completed.</param>
/// <param name="Status">pending | succeeded | failed | superseded (a progress event not sent because the job had finished).</param>
/// <param name="NextAttemptAt">While pending: when the next attempt is due.</param>
public sealed record WebhookDeliveryDto(
    Guid Id, string Event, string Url, string Status, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt,
    DateTimeOffset? CompletedAt, int? LastStatusCode, string? LastError, IReadOnlyList<WebhookAttemptDto> AttemptLog);

/// <param name="StatusCode">The receiver's HTTP status; absent when it did not answer.</param>
/// <param name="Error">Why the attempt failed; absent when it succeeded.</param>
public sealed record WebhookAttemptDto(int Attempt, DateTimeOffset StartedAt, long DurationMs, int? StatusCode, string? Error);

public static class WebhooksEndpoints
{
    public static IEndpointRouteBuilder MapWebhooksEndpoints(this IEndpointRouteBuilder app)
    {
        var secret = app.MapGroup("/v1/webhooks").WithTags("Webhooks").RequireAuthorization(Policies.Jobs);
        secret.MapGet("/secret", async (HttpContext http, ApiKeyStore keys, CancellationToken ct) =>
                TypedResults.Ok(new WebhookSecretDto(await keys.WebhookSecretAsync(http.User.KeyId(), rotate: false, ct))))
            .WithName("GetWebhookSecret").WithSummary("This key's webhook signing secret")
            .WithDescription("Every delivery of this key's jobs carries webhook-id, webhook-timestamp and webhook-signature headers signed with this secret (Standard Webhooks). Made on first use.");
        secret.MapPost("/secret/rotate", async (HttpContext http, ApiKeyStore keys, CancellationToken ct) =>
                TypedResults.Ok(new WebhookSecretDto(await keys.WebhookSecretAsync(http.User.KeyId(), rotate: true, ct))))
            .WithName("RotateWebhookSecret").WithSummary("Replace this key's webhook signing secret")
            .WithDescription("Attempts made from now on are signed with the new secret, retries of earlier deliveries included.");

        app.MapGroup("/v1/jobs").WithTags("Webhooks").RequireAuthorization(Policies.Jobs)
            .MapGet("/{id:guid}/webhooks", DeliveriesAsync)
            .WithName("GetJobWebhooks").WithSummary("A job's webhook deliveries and every attempt at them")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Results<Ok<List<WebhookDeliveryDto>>, ProblemHttpResult>> DeliveriesAsync(
        Guid id, HttpContext http, GanDbContext db, JobReader reader, CancellationToken ct)
    {
        if (await reader.FindAsync(id, http.User.KeyId(), ct) is null)
            return JobsEndpoints.NotFound(id);
        var rows = await db.WebhookDeliveries.AsNoTracking().Include(d => d.AttemptLog)
            .Where(d => d.JobId == id).OrderBy(d => d.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(d => new WebhookDeliveryDto(
            d.Id, d.Event, d.Url, d.Status, d.Attempts, d.CreatedAt, d.Status == Core.Webhooks.DeliveryStatus.Pending ? d.NextAttemptAt : null,
            d.CompletedAt, d.LastStatusCode, d.LastError,
            d.AttemptLog.OrderBy(a => a.Attempt).Select(a => new WebhookAttemptDto(a.Attempt, a.StartedAt, a.DurationMs, a.StatusCode, a.Error)).ToList())).ToList());
    }
}
