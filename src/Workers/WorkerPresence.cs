using System.Diagnostics;
using System.Text.Json;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Workers.Inference;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Workers;

/// <summary>
/// Says at start what this worker runs on, loads the default models (so the first job does not pay for it), and
/// keeps a row in <c>workers</c> fresh every few seconds (device, GPU name and memory, loaded models), which
/// /health/ready reports. The row is removed on a clean stop; a killed worker's row just stops being fresh.
/// </summary>
public sealed class WorkerPresence(
    IServiceScopeFactory scopes,
    InferenceExecutor executor,
    ModelCache cache,
    IOptions<WorkerOptions> options,
    ILogger<WorkerPresence> log) : BackgroundService
{
    public static readonly string Id = $"{Environment.MachineName}:{Environment.ProcessId}".ToLowerInvariant();
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(5);
    private readonly DateTimeOffset startedAt = DateTimeOffset.UtcNow;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var (name, memory) = await executor.RunAsync(Describe, ct);
        log.LogInformation("Worker {WorkerId} on {Device}: {DeviceName}, {MemoryGiB:F1} GiB; libtorch {LibTorch}", Id, executor.DeviceName, name,
            (memory ?? 0) / 1073741824.0, LibTorchPath.LoadedFrom() ?? "(not found in /proc/self/maps)");
        if (options.Value.WarmDefaultModels) await WarmAsync(ct);
        while (!ct.IsCancellationRequested)
        {
            try { await BeatAsync(name, memory, ct); }
            catch (Exception e) when (e is not OperationCanceledException) { log.LogWarning("Worker heartbeat failed: {Message}", e.Message); }
            await Task.Delay(Period, ct).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        await base.StopAsync(ct);
        try
        {
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<GanDbContext>();
            await db.Workers.Where(w => w.Id == Id).ExecuteDeleteAsync(ct);
        }
        catch (Exception e) { log.LogWarning("Could not remove the worker row on stop: {Message}", e.Message); }
    }

    private async Task WarmAsync(CancellationToken ct)
    {
        try
        {
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<GanDbContext>();
            // The default model of each kind this worker's queues take (an inference queue is named as its kind).
            string[] kinds = options.Value.InferenceQueues() ?? Queues.Inference;
            var versions = await db.Models.AsNoTracking()
                .Where(m => m.IsDefault && kinds.Contains(m.Kind) && m.CurrentVersionId != null)
                .Join(db.ModelVersions.AsNoTracking(), m => m.CurrentVersionId, v => v.Id, (m, v) => new { Version = v, m.Family })
                .ToListAsync(ct);
            var clock = Stopwatch.StartNew();
            foreach (var v in versions)
                await executor.RunAsync(() => { cache.Warm(v.Version, v.Family, executor.Device); return true; }, ct);
            log.LogInformation("Warmed {Count} default model(s) in {ElapsedMs} ms", versions.Count, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "Could not warm the default models; they load on first use");
        }
    }

    private async Task BeatAsync(string name, long? memory, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<GanDbContext>();
        var loaded = JsonSerializer.Serialize(cache.Loaded.Select(l => new { model = l.Model, version = l.Version }));
        var now = DateTimeOffset.UtcNow;
        var o = options.Value;
        string[] inference = o.InferenceQueues() ?? Queues.Inference;
        string[] queues = o.TrainingConcurrency > 0 ? [.. inference, Queues.ForKind(JobKinds.Training)] : inference;
        string[] videoFormats = VideoEncoder.HasFfmpeg(o.FfmpegFolder) ? ["gif", "webp", "mp4"] : ["gif", "webp"];
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO workers (id, device, device_name, device_memory_bytes, queues, video_formats, concurrency, batching, loaded_models, started_at, heartbeat_at)
            VALUES ({Id}, {executor.DeviceName}, {name}, {memory}, {queues}, {videoFormats}, {o.Concurrency}, {o.Batching.Enabled}, {loaded}::jsonb, {startedAt}, {now})
            ON CONFLICT (id) DO UPDATE SET device_name = EXCLUDED.device_name, device_memory_bytes = EXCLUDED.device_memory_bytes,
              loaded_models = EXCLUDED.loaded_models, heartbeat_at = EXCLUDED.heartbeat_at
            """, ct);
    }

    /// <summary>The device's name and memory: the GPU's from nvidia-smi on CUDA, the machine's on CPU. Device thread.</summary>
    private (string Name, long? MemoryBytes) Describe()
    {
        if (executor.Device.type != DeviceType.CUDA)
            return ($"cpu ({get_num_threads()} torch threads, {Environment.ProcessorCount} cores)", GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        try
        {
            var psi = new ProcessStartInfo("nvidia-smi", $"--query-gpu=name,memory.total --format=csv,noheader,nounits -i {executor.Device.index}")
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using var p = Process.Start(psi)!;
            var line = p.StandardOutput.ReadLine() ?? "";
            p.WaitForExit(5000);
            var parts = line.Split(',', StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && long.TryParse(parts[1], out var mib)) return (parts[0], mib * 1024 * 1024);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // No nvidia-smi on this machine: the device index is all we can say.
        }
        return (executor.DeviceName, null);
    }
}
