using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Workers.Inference;

/// <summary>
/// One dedicated thread per device runs every forward pass: TorchSharp dispose scopes are thread-bound and do not
/// follow await, and one thread per device keeps job concurrency independent of device concurrency.
/// </summary>
public sealed class InferenceExecutor : IDisposable
{
    private readonly BlockingCollection<Action> work = new();
    private readonly Thread thread;
    private readonly ILogger<InferenceExecutor> log;

    public Device Device { get; }
    public string DeviceName { get; }

    public InferenceExecutor(IOptions<WorkerOptions> options, ILogger<InferenceExecutor> log)
    {
        this.log = log;
        (Device, DeviceName) = Choose(options.Value.Device);
        if (options.Value.TorchThreads > 0) set_num_threads(options.Value.TorchThreads);
        thread = new Thread(Loop) { IsBackground = true, Name = $"torch-{DeviceName}" };
        thread.Start();
        log.LogInformation("Inference executor on {Device} ({Threads} torch threads)", DeviceName, get_num_threads());
    }

    private static (Device, string) Choose(string setting)
    {
        setting = setting.Trim().ToLowerInvariant();
        if (setting == "cpu") return (CPU, "cpu");
        bool cudaOk = cuda.is_available();
        if (setting == "auto") return cudaOk ? (CUDA, "cuda:0") : (CPU, "cpu");
        if (setting.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (!cudaOk) throw new InvalidOperationException($"Worker:Device is '{setting}' but libtorch finds no CUDA device.");
            int index = setting.Length > 5 ? int.Parse(setting[5..]) : 0;
            return (new Device(DeviceType.CUDA, index), $"cuda:{index}");
        }
        throw new ArgumentException($"Worker:Device must be auto, cpu, cuda or cuda:N, not '{setting}'.");
    }

    /// <summary>Runs <paramref name="fn"/> on the device thread and returns its result.</summary>
    public Task<T> RunAsync<T>(Func<T> fn, CancellationToken ct = default)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Add(() =>
        {
            if (ct.IsCancellationRequested) { tcs.TrySetCanceled(ct); return; }
            try { tcs.TrySetResult(fn()); }
            catch (Exception e) { tcs.TrySetException(e); }
        }, ct);
        return tcs.Task;
    }

    private void Loop()
    {
        foreach (var item in work.GetConsumingEnumerable())
        {
            try { item(); }
            catch (Exception e) { log.LogError(e, "Inference work item failed outside its task"); }
        }
    }

    public void Dispose()
    {
        work.CompleteAdding();
        thread.Join(TimeSpan.FromSeconds(5));
        work.Dispose();
    }
}
