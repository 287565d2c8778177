using Hangfire;

namespace GanService.Core.Jobs;

/// <summary>
/// The contract the Api enqueues and the Workers implement. Arguments are ids only; running a job twice is harmless
/// (a finished job is left as it is; a job interrupted mid-run starts over with the same seeds).
/// </summary>
public interface IGenerationJob
{
    /// <remarks>
    /// Transient failures are retried twice, quickly; the job itself marks its row failed on its last attempt (and at
    /// once for input it cannot serve), so bad input is never retried and every accepted job ends terminal.
    /// </remarks>
    [AutomaticRetry(Attempts = 2, DelaysInSeconds = [1, 5], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    Task RunAsync(Guid jobId, CancellationToken ct);
}

/// <summary>Hands an accepted job to the queue. Implemented with Hangfire.</summary>
public interface IJobQueue
{
    /// <summary>Enqueues the job on its kind's queue and returns the transport's id.</summary>
    string Enqueue(Guid jobId, string kind);
}

public static class Queues
{
    /// <summary>Hangfire queue names (lower case, digits, dashes and underscores only).</summary>
    /// <summary>The queues the inference server of a worker takes jobs from, most urgent first.</summary>
    public static string[] Inference { get; } = ["generation", "aging", "text-to-image", "video"];

    public static string ForKind(string kind) => kind switch
    {
        JobKinds.Generation => "generation",
        JobKinds.Aging => "aging",
        JobKinds.TextToImage => "text-to-image",   // a dash, not the fallback's underscore: workers read queue names as model kinds
        JobKinds.Video => "video",
        JobKinds.Training => "training",
        _ => kind.Replace('-', '_'),
    };
}
