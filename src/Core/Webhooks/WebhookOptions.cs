namespace GanService.Core.Webhooks;

/// <summary>Webhook delivery (section "Webhooks"), read by the Api (validation at submit) and the workers (delivery).</summary>
public sealed class WebhookOptions : ISelfValidatingOptions
{
    public const string Section = "Webhooks";

    /// <summary>Host names webhooks may target, comma-separated; "*.example.com" matches subdomains. Empty: any host
    /// whose addresses are public (see <see cref="AllowedNetworks"/>).</summary>
    public string AllowedHosts { get; set; } = "";

    /// <summary>Networks (CIDR, comma-separated) a webhook may reach although they are loopback, private, link-local
    /// or otherwise internal, e.g. "10.1.0.0/16" for a receiver inside the cluster. Empty: public addresses only, so a
    /// webhook cannot be used to probe the service's own network.</summary>
    public string AllowedNetworks { get; set; } = "";

    /// <summary>Seconds to wait before each retry of a failed delivery, comma-separated; after the last one the
    /// delivery is marked failed. The default tries 7 times over about 1 h 45 min.</summary>
    public string RetrySchedule { get; set; } = "5,30,120,600,1800,3600";

    /// <summary>Per attempt: connect, send and the receiver's answer (its status line and headers).</summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>How often a worker looks for due deliveries.</summary>
    public int PollMilliseconds { get; set; } = 500;

    /// <summary>Deliveries one worker sends at once.</summary>
    public int MaxConcurrent { get; set; } = 16;

    /// <summary>Base of the output links inside payloads (the Api's public address); empty: paths only.</summary>
    public string? PublicBaseUrl { get; set; }

    public IReadOnlyList<TimeSpan> Retries() =>
        RetrySchedule.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => TimeSpan.FromSeconds(double.Parse(s, System.Globalization.CultureInfo.InvariantCulture))).ToList();

    /// <summary>Null when the settings are usable, else what is wrong with them.</summary>
    public string? Validate()
    {
        try
        {
            if (Retries().Any(r => r < TimeSpan.Zero || r > TimeSpan.FromDays(1))) return "Webhooks:RetrySchedule delays must be 0..86400 s.";
            _ = WebhookTargets.ParseNetworks(AllowedNetworks);
        }
        catch (FormatException e) { return e.Message; }
        if (TimeoutSeconds is <= 0 or > 120) return "Webhooks:TimeoutSeconds must be in (0, 120].";
        if (PollMilliseconds is < 10 or > 60_000) return "Webhooks:PollMilliseconds must be 10..60000.";
        if (MaxConcurrent is < 1 or > 256) return "Webhooks:MaxConcurrent must be 1..256.";
        return null;
    }
}
