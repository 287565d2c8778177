namespace GanService.Workers.Cli;

/// <summary>Reports on the trainer's own thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
