namespace GanService.Workers;

public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>auto | cpu | cuda | cuda:N. auto takes CUDA device 0 when libtorch finds one.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Hangfire worker threads: jobs in flight at once (the forward passes still run one at a time per device).</summary>
    public int Concurrency { get; set; } = 8;

    /// <summary>
    /// The thread pool's minimum worker threads (raised at start, never lowered). Hangfire's threads wait synchronously
    /// on tasks (each fetch's LISTEN task), and Npgsql's keepalives do blocking reads on pool threads; with the pool at
    /// its default minimum (one per core) and the cores busy, it grew about a thread a second, and bench
    /// hangfire-fetch saw fetches, enqueues and keepalives stall for 12–30 s. With 64 it saw none.
    /// </summary>
    public int MinThreads { get; set; } = 64;

    /// <summary>Runs of one job (including runs cut short by a killed process) before it is marked failed.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How often the reconciler looks for accepted jobs that never reached the queue.</summary>
    public int ReconcileSeconds { get; set; } = 5;

    /// <summary>How old such a job must be before the reconciler enqueues it (the Api normally does it at once).</summary>
    public int ReconcileGraceSeconds { get; set; } = 10;

    /// <summary>
    /// Testing aid for fault tests: hold each job this long after claiming it, so a test can kill the worker
    /// mid-job. Always 0 in production.
    /// </summary>
    public int HoldAfterClaimMs { get; set; } = 0;

    /// <summary>
    /// On SIGTERM a worker stops taking jobs at once, and the generation jobs it holds get this long to finish before
    /// they are cut off (and, since unfinished, delivered to another worker). The process exits once they are done.
    /// </summary>
    public int ShutdownGraceSeconds { get; set; } = 20;

    /// <summary>A job queued (delivered, not started) this long while the queue is otherwise empty is delivered again.</summary>
    public int StaleQueuedSeconds { get; set; } = 30;

    /// <summary>
    /// A job still `running` this long after it started, on a worker with no heartbeat for as long, is an orphan: the
    /// reconciler queues it again (or fails it once it has used its attempts). Longer than the queue's invisibility
    /// timeout, so Hangfire's own re-delivery goes first.
    /// </summary>
    public int OrphanSeconds { get; set; } = 300;

    /// <summary>
    /// The inference queues this worker takes jobs from, comma-separated, most urgent first: any of generation, aging,
    /// text-to-image, video. Empty means all of them. A worker per family (e.g. one only for video on the big GPU) is this setting.
    /// </summary>
    public string Queues { get; set; } = "";

    /// <summary>The queues <see cref="Queues"/> names, or every inference queue; null when it names an unknown one.</summary>
    public string[]? InferenceQueues()
    {
        var named = Queues.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(q => q.ToLowerInvariant()).Distinct().ToArray();
        if (named.Length == 0) return Core.Jobs.Queues.Inference;
        return named.All(q => Core.Jobs.Queues.Inference.Contains(q)) ? named : null;
    }

    /// <summary>Port of this worker's Prometheus scrape endpoint (<c>http://host:port/metrics</c>); 0 = none.</summary>
    public int MetricsPort { get; set; } = 0;

    /// <summary>Host part of the scrape endpoint's listener prefix: <c>*</c> (every interface, for a pod) or e.g. <c>localhost</c>.</summary>
    public string MetricsHost { get; set; } = "*";

    /// <summary>Folder holding ffmpeg for mp4 videos; empty means ffmpeg on PATH. Without ffmpeg the worker writes gif and webp only.</summary>
    public string FfmpegFolder { get; set; } = "";

    /// <summary>After this many seconds without inference work, hand the native heap's free pages back to the OS (glibc's
    /// malloc_trim); 0 = never.</summary>
    public double TrimNativeHeapIdleSeconds { get; set; } = 1;

    /// <summary>Torch CPU threads for the forward passes; 0 = a quarter of the cores, at least one.</summary>
    public int TorchThreads { get; set; } = 0;

    /// <summary>Parameters and buffers of loaded models kept at most (least recently used unloaded first).</summary>
    public int ModelCacheMegabytes { get; set; } = 2048;

    /// <summary>Load the default models at start, so the first job does not pay for it.</summary>
    public bool WarmDefaultModels { get; set; } = true;

    /// <summary>Training jobs run at once by this worker (its own Hangfire server on the training queue); 0 takes none.</summary>
    public int TrainingConcurrency { get; set; } = 1;

    /// <summary>Where training jobs keep their checkpoints (one folder per job, removed when it ends).</summary>
    public string CheckpointRoot { get; set; } = ".data/checkpoints";

    /// <summary>A running training saves a checkpoint this often; a killed worker's retry resumes from it.</summary>
    public int TrainingCheckpointSeconds { get; set; } = 300;

    /// <summary>Real images a finished training is evaluated against (half are the reference, as many are generated).</summary>
    public int EvaluationImages { get; set; } = Training.ImageModelEvaluation.MaxRealImages;

    /// <summary>Dynamic batching of sampling requests on the device thread.</summary>
    public Inference.BatchingOptions Batching { get; set; } = new();
}
