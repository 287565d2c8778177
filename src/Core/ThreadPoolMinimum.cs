namespace GanService.Core;

public static class ThreadPoolMinimum
{
    /// <summary>
    /// Raises the thread pool's minimum worker threads to <paramref name="wanted"/> (never lowers it). Both processes
    /// block threads on tasks under load, and from the default minimum (one per core) the pool grows about one thread a
    /// second (Api:MinThreads, Worker:MinThreads).
    /// </summary>
    public static void Raise(int wanted)
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        if (wanted > workers) ThreadPool.SetMinThreads(wanted, io);
    }
}
