using Hangfire;

namespace GanService.Core.Jobs;

/// <summary>
/// What a text-to-image job was asked for, after validation and defaulting; stored as the job's <c>input</c> JSON.
/// </summary>
/// <param name="Prompt">As sent (validated: 1..256 Unicode characters, no control characters); the worker normalises it
/// (NFKC, lower case, whitespace) when it tokenises.</param>
/// <param name="Seed">Image i is drawn with seed + i.</param>
/// <param name="IncludeStageOne">Also return each image's 64 px Stage-I sketch (label <c>stage-one</c>), after the finals.</param>
public sealed record TextToImageInput(string Prompt, int Count, long Seed, bool IncludeStageOne, string Format);

/// <summary>The contract the Api enqueues on the text-to-image queue and the Workers implement (as <see cref="IGenerationJob"/>).</summary>
public interface ITextToImageJob
{
    [AutomaticRetry(Attempts = 2, DelaysInSeconds = [1, 5], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    Task RunAsync(Guid jobId, CancellationToken ct);
}
