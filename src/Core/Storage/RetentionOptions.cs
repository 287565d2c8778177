namespace GanService.Core.Storage;

/// <summary>How long outputs are kept (section "Retention"); read by the Api (expiresAt, 410s) and the workers (sweep).</summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Seconds after a job finishes that its output files are deleted; 0 keeps them forever. Default 7 days.</summary>
    public long OutputSeconds { get; set; } = 7 * 24 * 3600;

    /// <summary>How often a worker runs the sweep.</summary>
    public int SweepSeconds { get; set; } = 300;

    public TimeSpan? OutputLifetime => OutputSeconds > 0 ? TimeSpan.FromSeconds(OutputSeconds) : null;
}
