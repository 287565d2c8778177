using Hangfire;

namespace GanService.Core.Jobs;

/// <summary>
/// What a video job was asked for, after validation and defaulting; stored as the job's <c>input</c> JSON. With a video
/// model (VGAN) the clip comes from <see cref="Seed"/>; with an image-generation model it is a latent walk from
/// <see cref="FromSeed"/> to <see cref="ToSeed"/> (spherical interpolation between their latents).
/// </summary>
/// <param name="Frames">Frames in the video.</param>
/// <param name="Fps">Playback rate written into the file.</param>
/// <param name="Label">For a walk on a class-conditional model: the class every frame shows.</param>
public sealed record VideoInput(int Frames, string Format, int Fps, long? Seed, long? FromSeed, long? ToSeed, string? Label)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsWalk => FromSeed is not null;
}

/// <summary>The contract the Api enqueues on the video queue and the Workers implement (as <see cref="IGenerationJob"/>).</summary>
public interface IVideoJob
{
    [AutomaticRetry(Attempts = 2, DelaysInSeconds = [1, 5], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    Task RunAsync(Guid jobId, CancellationToken ct);
}

public static class VideoFormats
{
    /// <summary>Video formats and their content types. gif and webp are always written; mp4 needs ffmpeg on the worker.</summary>
    public static IReadOnlyDictionary<string, string> ContentTypes { get; } = new Dictionary<string, string>
    {
        ["gif"] = "image/gif",
        ["webp"] = "image/webp",
        ["mp4"] = "video/mp4",
    };

    public const string Mp4 = "mp4";
}
