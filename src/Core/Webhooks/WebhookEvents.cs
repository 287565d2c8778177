namespace GanService.Core.Webhooks;

/// <summary>What a job's webhook may be called for.</summary>
public static class WebhookEvents
{
    /// <summary>The job started on a worker (once, even if a later attempt starts it again).</summary>
    public const string Start = "start";
    /// <summary>The job's progress moved (trainings); coalesced: at most one undelivered at a time per job.</summary>
    public const string Progress = "progress";
    /// <summary>The job reached succeeded, failed or canceled.</summary>
    public const string Completed = "completed";

    public static IReadOnlyList<string> All { get; } = [Start, Progress, Completed];

    /// <summary>The payload's "type".</summary>
    public static string TypeOf(string evt) => "job." + evt;
}

/// <summary>A delivery's state.</summary>
public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    /// <summary>A progress event not sent because the job had finished by then (its completed event says more).</summary>
    public const string Superseded = "superseded";
}
