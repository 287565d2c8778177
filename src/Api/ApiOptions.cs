namespace GanService.Api;

public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Largest JSON body accepted on a POST.</summary>
    public long MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Largest weights file POST /v1/models/import accepts.</summary>
    public long MaxImportBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Upper bound for Prefer: wait=N.</summary>
    public int MaxWaitSeconds { get; set; } = 60;

    /// <summary>How long a key lookup is cached: a revoked key stops working within this time.</summary>
    public int ApiKeyCacheSeconds { get; set; } = 10;

    /// <summary>Base of the file links in job outputs; empty means the request's own scheme and host.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Requests per second each API key may make on /v1 (token bucket), sustained.</summary>
    public double RateLimitPerSecond { get; set; } = 50;

    /// <summary>How many requests a key may make at once above the sustained rate (the bucket's size).</summary>
    public int RateLimitBurst { get; set; } = 100;

    /// <summary>Jobs a key may have queued (accepted, not started) at once; 0 = no cap.</summary>
    public int MaxQueuedJobsPerKey { get; set; } = 1000;

    /// <summary>
    /// Thread-pool threads created on demand without the pool's ramp-up delay. Hangfire's client enqueues with
    /// synchronous database calls, so a burst of submissions blocks that many pool threads at once; with the default
    /// minimum (one per core) the pool added threads about one a second and 32 concurrent first requests to a fresh
    /// Api waited 8 s for their enqueue (bench/run-capacity.sh found it).
    /// </summary>
    public int MinThreads { get; set; } = 128;

    /// <summary>Test hook: how long to wait between writing a job's row and handing it to the queue (0: not at all),
    /// so a test can make the reconciler's sweep reach the row first, as a slow enqueue under load does.</summary>
    public int HoldBeforeEnqueueMs { get; set; } = 0;
}
