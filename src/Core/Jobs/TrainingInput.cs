using Hangfire;

namespace GanService.Core.Jobs;

/// <summary>
/// What a training job was asked for, after validation and defaulting; stored as the job's <c>input</c> JSON.
/// The job's <c>model</c> is the name the trained weights are registered under.
/// </summary>
public sealed record TrainingInput(
    string Family,
    string Dataset,
    string[] Sets,
    int Resolution,
    int LatentDim,
    int FmapBase,
    int FmapMax,
    double StableKimg,
    double FadeKimg,
    int BatchSize,
    long Seed,
    bool Progressive,
    bool Evaluate);

/// <summary>Live figures of a running training, kept in the job's <c>detail</c>.</summary>
public sealed record TrainingDetail(
    long Step, double Kimg, double TotalKimg, int Resolution, double Alpha, double? LossD, double? LossG, double ImagesPerSecond,
    long SkippedSteps, string? Version = null, string? Checkpoint = null);

/// <summary>The contract the Api enqueues on the training queue and the Workers implement.</summary>
public interface ITrainingJob
{
    /// <remarks>
    /// A worker that dies mid-run leaves a checkpoint; the retry (or the reconciler's requeue) resumes from it.
    /// </remarks>
    [AutomaticRetry(Attempts = 2, DelaysInSeconds = [5, 30], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    Task RunAsync(Guid jobId, CancellationToken ct);
}
