using System.Diagnostics;
using GanService.Core.Data;
using GanService.Models;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Workers.Inference;

/// <summary>The pixels of one request's images and the forward pass they came from.</summary>
/// <param name="BatchImages">Images in that forward pass: this request's plus those of requests batched with it.</param>
public sealed record SampleResult(byte[][] Pixels, int Size, int Channels, int BatchImages, int BatchRequests);

/// <summary>
/// One dedicated thread per device runs every forward pass: TorchSharp dispose scopes are thread-bound and do not
/// follow await, and one thread per device keeps job concurrency independent of device concurrency.
/// Sampling requests are batched dynamically (<see cref="BatchingOptions"/>); callers await their own slice.
/// </summary>
public sealed class InferenceExecutor : IDisposable
{
    private abstract class WorkItem
    {
        public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();
        public required CancellationToken Ct { get; init; }
    }

    private sealed class ActionItem : WorkItem
    {
        public required Action Run { get; init; }
    }

    private sealed class SampleItem : WorkItem
    {
        public required ModelVersion Version { get; init; }
        public required string Family { get; init; }
        public required SampleRequest Request { get; init; }
        public TaskCompletionSource<SampleResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly object gate = new();
    private readonly LinkedList<WorkItem> pending = new();
    private bool completed;
    private readonly Thread thread;
    private readonly ModelCache cache;
    private readonly BatchingOptions batching;
    private readonly ILogger<InferenceExecutor> log;
    private readonly TimeSpan idleTrim;
    // Work ran since the last trim of the native heap.
    private bool trimDue;
    private long trims;

    /// <summary>How many times this executor has trimmed the native heap (after idling, see WorkerOptions.TrimNativeHeapIdleSeconds).</summary>
    public long NativeHeapTrims => Interlocked.Read(ref trims);

    public Device Device { get; }
    public string DeviceName { get; }

    public InferenceExecutor(IOptions<WorkerOptions> options, ModelCache cache, ILogger<InferenceExecutor> log)
    {
        this.log = log;
        this.cache = cache;
        batching = options.Value.Batching;
        idleTrim = TimeSpan.FromSeconds(Math.Max(0, options.Value.TrimNativeHeapIdleSeconds));
        (Device, DeviceName) = Devices.Choose(options.Value.Device);
        // CPU threads for the forward passes. Auto (0): a quarter of the cores, at least one. The Api, Postgres and the
        // job plumbing need the rest, and libtorch's idle OpenMP threads spin: on this 2-core machine 1 thread gave
        // 23–33 jobs/s at 64 clients against 19–26 with libtorch's default of 2 (docs/bench-batching-2026-11-28.log).
        int threads = options.Value.TorchThreads > 0 ? options.Value.TorchThreads : Math.Max(1, Environment.ProcessorCount / 4);
        if (Device.type == DeviceType.CPU) set_num_threads(threads);
        thread = new Thread(Loop) { IsBackground = true, Name = $"torch-{DeviceName}" };
        thread.Start();
        log.LogInformation("Inference executor on {Device} ({Threads} torch threads), batching {Batching} (max {MaxBatch} images, {DelayMs} ms delay)",
            DeviceName, get_num_threads(), batching.Enabled ? "on" : "off", batching.MaxBatchSize, batching.MaxQueueDelayMs);
    }

    /// <summary>Runs <paramref name="fn"/> on the device thread and returns its result.</summary>
    public Task<T> RunAsync<T>(Func<T> fn, CancellationToken ct = default)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new ActionItem
        {
            Ct = ct,
            Run = () =>
            {
                if (ct.IsCancellationRequested) { tcs.TrySetCanceled(ct); return; }
                try { tcs.TrySetResult(fn()); }
                catch (Exception e) { tcs.TrySetException(e); }
            },
        });
        return tcs.Task;
    }

    /// <summary>
    /// Samples <paramref name="request"/> from <paramref name="version"/>'s generator, in one forward pass with
    /// whichever other requests for the same version are waiting (up to the model's batch size and queue delay).
    /// </summary>
    public Task<SampleResult> SampleAsync(ModelVersion version, string family, SampleRequest request, CancellationToken ct = default)
    {
        var item = new SampleItem { Version = version, Family = family, Request = request, Ct = ct };
        Enqueue(item);
        return item.Result.Task;
    }

    private void Enqueue(WorkItem item)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(completed, this);
            pending.AddLast(item);
            Monitor.PulseAll(gate);
        }
    }

    private void Loop()
    {
        while (Next() is { } work)
        {
            try
            {
                if (work is ActionItem action) action.Run();
                else RunBatch((List<SampleItem>)work);
            }
            catch (Exception e) { log.LogError(e, "Inference work item failed outside its task"); }
        }
    }

    /// <summary>
    /// The next thing to run: an action, or a batch of sample requests for one model version. Waits while the
    /// queue is empty; returns null once disposed and drained.
    /// </summary>
    private object? Next()
    {
        lock (gate)
        {
            while (pending.Count == 0)
            {
                if (completed) return null;
                if (trimDue && idleTrim > TimeSpan.Zero)
                {
                    // Idle for idleTrim after some work: give the native heap's free pages back (NativeHeap).
                    if (!Monitor.Wait(gate, idleTrim) && pending.Count == 0 && !completed)
                    {
                        trimDue = false;
                        return new ActionItem { Ct = CancellationToken.None, Run = () => { if (NativeHeap.Trim()) Interlocked.Increment(ref trims); } };
                    }
                    continue;
                }
                Monitor.Wait(gate);
            }
            var first = pending.First!.Value;
            pending.RemoveFirst();
            trimDue = true;
            if (first is not SampleItem head) return first;

            var batch = new List<SampleItem> { head };
            var (maxImages, maxDelay) = batching.For(head.Version.ModelName);
            int images = head.Request.Count;
            long deadline = head.EnqueuedAt + (long)(maxDelay.TotalSeconds * Stopwatch.Frequency);
            while (true)
            {
                // Take every waiting request for the same version that still fits, in arrival order.
                for (var node = pending.First; node is not null && images < maxImages;)
                {
                    var next = node.Next;
                    if (node.Value is SampleItem s && s.Version.Id == head.Version.Id && images + s.Request.Count <= maxImages)
                    {
                        batch.Add(s);
                        images += s.Request.Count;
                        pending.Remove(node);
                    }
                    node = next;
                }
                long remaining = deadline - Stopwatch.GetTimestamp();
                if (images >= maxImages || remaining <= 0 || completed) return batch;
                Monitor.Wait(gate, TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency));
            }
        }
    }

    private void RunBatch(List<SampleItem> batch)
    {
        foreach (var s in batch.Where(s => s.Ct.IsCancellationRequested)) s.Result.TrySetCanceled(s.Ct);
        batch.RemoveAll(s => s.Ct.IsCancellationRequested);
        if (batch.Count == 0) return;
        try
        {
            var g = cache.Generator(batch[0].Version, batch[0].Family, Device);
            var pixels = ImageSampler.Sample(g, Device, batch.Select(s => s.Request).ToList());
            Core.Telemetry.BatchImages.Record(pixels.Length, Core.Telemetry.Tag("model", batch[0].Version.ModelName));
            int offset = 0;
            foreach (var s in batch)
            {
                var mine = pixels[offset..(offset + s.Request.Count)];
                offset += s.Request.Count;
                s.Result.TrySetResult(new SampleResult(mine, g.ImageSize, g.Channels, pixels.Length, batch.Count));
            }
        }
        catch (Exception e)
        {
            foreach (var s in batch) s.Result.TrySetException(e);
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            completed = true;
            Monitor.PulseAll(gate);
        }
        thread.Join(TimeSpan.FromSeconds(5));
    }
}
