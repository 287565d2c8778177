namespace GanService.Core.Jobs;

/// <summary>The kinds of job and model the service knows, as the API spells them.</summary>
public static class JobKinds
{
    public const string Generation = "generation";
    public const string Aging = "aging";
    public const string TextToImage = "text-to-image";
    public const string Video = "video";
    public const string Training = "training";

    public static IReadOnlyList<string> All { get; } = [Generation, Aging, TextToImage, Video, Training];
}

/// <summary>queued → running → succeeded | failed | canceled.</summary>
public static class JobStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Canceled = "canceled";

    public static IReadOnlyList<string> All { get; } = [Queued, Running, Succeeded, Failed, Canceled];

    public static bool IsTerminal(string status) => status is Succeeded or Failed or Canceled;

    /// <summary>For queries: EF translates <c>IsTerminalStatuses.Contains(status)</c> to SQL.</summary>
    public static readonly string[] IsTerminalStatuses = [Succeeded, Failed, Canceled];
}
