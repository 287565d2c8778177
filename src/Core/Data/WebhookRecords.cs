namespace GanService.Core.Data;

/// <summary>
/// One event of one job to send to its webhook. Rows are written by a trigger on jobs in the transaction that changes
/// the job's status or progress, so an event cannot be lost between the change and its delivery; workers claim due
/// rows with FOR UPDATE SKIP LOCKED and send them at least once.
/// </summary>
public sealed class WebhookDelivery
{
    /// <summary>Also the webhook-id header: the same on every attempt, so receivers can drop duplicates.</summary>
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public Guid ApiKeyId { get; set; }
    /// <summary>start | progress | completed.</summary>
    public required string Event { get; set; }
    public required string Url { get; set; }
    /// <summary>pending | succeeded | failed.</summary>
    public required string Status { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    /// <summary>Set while a worker sends it; a worker that dies leaves it to expire and another one retries.</summary>
    public DateTimeOffset? LockedUntil { get; set; }
    /// <summary>The body, fixed at the first attempt so every retry sends the same bytes.</summary>
    public string? Payload { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public List<WebhookAttempt> AttemptLog { get; set; } = [];
}

/// <summary>One try at sending a delivery, kept for the job's owner to see (GET /v1/jobs/{id}/webhooks).</summary>
public sealed class WebhookAttempt
{
    public long Id { get; set; }
    public Guid DeliveryId { get; set; }
    public int Attempt { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public long DurationMs { get; set; }
    /// <summary>The receiver's HTTP status; null when there was no answer.</summary>
    public int? StatusCode { get; set; }
    /// <summary>Why the attempt failed (timeout, refused, HTTP 500), null when it succeeded.</summary>
    public string? Error { get; set; }
}
