namespace GanService.Api;

public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Largest JSON body accepted on a POST.</summary>
    public long MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Upper bound for Prefer: wait=N.</summary>
    public int MaxWaitSeconds { get; set; } = 60;

    /// <summary>How long a key lookup is cached: a revoked key stops working within this time.</summary>
    public int ApiKeyCacheSeconds { get; set; } = 10;

    /// <summary>Base of the file links in job outputs; empty means the request's own scheme and host.</summary>
    public string? PublicBaseUrl { get; set; }
}
