namespace GanService.Core.Data;

/// <summary>A job row: the source of truth for a job's state (Hangfire only carries it to a worker).</summary>
public sealed class Job
{
    public Guid Id { get; set; }
    public required string Kind { get; set; }
    public required string Status { get; set; }
    public Guid ApiKeyId { get; set; }
    public required string Model { get; set; }
    public Guid? ModelVersionId { get; set; }
    public string? ModelVersion { get; set; }
    /// <summary>The validated input, as JSON (jsonb).</summary>
    public required string Input { get; set; }
    /// <summary>The blob holding the job's uploaded file (an aging job's face), kept and expired with the outputs.</summary>
    public string? InputKey { get; set; }
    public double Progress { get; set; }
    /// <summary>Live figures of a long job (a training's step, kimg, losses; jsonb).</summary>
    public string? Detail { get; set; }
    /// <summary>RFC 9457 problem object (jsonb) when failed.</summary>
    public string? Error { get; set; }
    public string? IdempotencyKey { get; set; }
    public string? RequestHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>When the job was handed to the queue; null means the reconciler still has to.</summary>
    public DateTimeOffset? EnqueuedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    /// <summary>From the Cancel-After header: a job not started by then is canceled instead of run.</summary>
    public DateTimeOffset? CancelAfter { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>When the retention sweep deleted the job's output files (Retention:OutputSeconds after completion).</summary>
    public DateTimeOffset? ExpiredAt { get; set; }
    public int Attempts { get; set; }
    public string? Device { get; set; }
    public string? Worker { get; set; }
    public long? QueueMs { get; set; }
    public long? RunMs { get; set; }
    /// <summary>Images in the forward pass that made this job's outputs: its own plus those of jobs batched with it.</summary>
    public int? BatchImages { get; set; }
    public string? TraceId { get; set; }
    /// <summary>Where the job's webhook deliveries go; null means none.</summary>
    public string? WebhookUrl { get; set; }
    /// <summary>Which of start, progress, completed the webhook is called for.</summary>
    public string[]? WebhookEvents { get; set; }
    public List<JobOutput> Outputs { get; set; } = [];
}

public sealed class JobOutput
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public int Index { get; set; }
    public required string BlobKey { get; set; }
    public required string ContentType { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    public long Seed { get; set; }
    public string? Label { get; set; }
    /// <summary>For an aging job: the age group this output shows (null for the strip of all of them).</summary>
    public string? AgeGroup { get; set; }
    /// <summary>For a video or mask video: its number of frames (null for still images).</summary>
    public int? Frames { get; set; }
    public long Bytes { get; set; }
    /// <summary>sha256 of the bytes, hex; served as the ETag.</summary>
    public required string Sha256 { get; set; }
}
