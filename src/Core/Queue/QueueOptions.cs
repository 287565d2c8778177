namespace GanService.Core.Queue;

public sealed class QueueOptions
{
    public const string Section = "Queue";

    /// <summary>Hangfire schema in the service's database.</summary>
    public string Schema { get; set; } = "hangfire";

    /// <summary>
    /// How long a fetched job stays invisible to other workers without a heartbeat; with the sliding timeout a live
    /// worker keeps extending it, so this is also how soon a killed worker's job is picked up again.
    /// </summary>
    public int InvisibilityTimeoutSeconds { get; set; } = 120;

    /// <summary>Fallback poll interval; LISTEN/NOTIFY long polling wakes workers at once.</summary>
    public int PollIntervalSeconds { get; set; } = 5;

    /// <summary>
    /// Npgsql keepalive on Hangfire's connections, in seconds; it bounds how long a wedged delivery can wait (see
    /// <see cref="HangfireSetup.QueueConnection"/>). 0 leaves the connection string as it is, and so does a connection
    /// string that sets Keepalive itself.
    /// </summary>
    public int KeepAliveSeconds { get; set; } = 1;
}
