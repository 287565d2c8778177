using GanService.Core.Data;
using GanService.Models;
using GanService.Models.Caae;
using GanService.Models.StackGan;
using GanService.Models.VideoGan;
using Microsoft.Extensions.Options;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Workers.Inference;

/// <summary>
/// Models (generators, CAAEs, video GANs, StackGANs) loaded once per process, keyed by model version, checked against the version's sha256, kept within
/// <see cref="WorkerOptions.ModelCacheMegabytes"/> of parameters and buffers: the least recently used model is
/// unloaded first (never the one being loaded). Used only on the device thread, so it needs no locking.
/// </summary>
public sealed class ModelCache(IOptions<WorkerOptions> options, ILogger<ModelCache> log) : IDisposable
{
    private sealed class Entry(IDisposable model, long bytes)
    {
        public IDisposable Model { get; } = model;
        public long Bytes { get; } = bytes;
        public long LastUsed { get; set; }
    }

    private readonly Dictionary<Guid, Entry> entries = new();
    private long clock;
    private long hits, misses, evictions;

    public long BudgetBytes => options.Value.ModelCacheMegabytes * 1024L * 1024L;
    public long LoadedBytes => entries.Values.Sum(e => e.Bytes);
    public (long Hits, long Misses, long Evictions, int Loaded) Stats => (hits, misses, evictions, entries.Count);

    /// <summary>What is loaded now, readable from any thread.</summary>
    public IReadOnlyList<(string Model, string Version)> Loaded { get; private set; } = [];

    private readonly Dictionary<Guid, (string Model, string Version)> names = new();

    private void Publish() => Loaded = entries.Keys.Select(id => names[id]).ToArray();

    /// <summary>The version's generator. Call on the device thread.</summary>
    public IImageGenerator Generator(ModelVersion version, string family, Device device) =>
        Get(version, device, () => IImageGenerator.Load(family, version.Config, version.WeightsPath));

    /// <summary>The version's CAAE (encoder and generator). Call on the device thread.</summary>
    public CaaeModel Caae(ModelVersion version, Device device) =>
        Get(version, device, () => CaaeModel.Load(version.Config, version.WeightsPath));

    /// <summary>The version's two-stream video generator. Call on the device thread.</summary>
    public VideoGanGenerator VideoGan(ModelVersion version, Device device) =>
        Get(version, device, () => VideoGanGenerator.Load(version.Config, version.WeightsPath));

    /// <summary>The version's StackGAN (caption encoder, vocabulary, both stages). Call on the device thread.</summary>
    public StackGanModel StackGan(ModelVersion version, Device device) =>
        Get(version, device, () => StackGanModel.Load(version.Config, version.WeightsPath));

    /// <summary>Loads the version as its family is served (a CAAE, a video GAN, or an image generator). Call on the device thread.</summary>
    public void Warm(ModelVersion version, string family, Device device)
    {
        if (family == "caae") Caae(version, device);
        else if (family == "vgan") VideoGan(version, device);
        else if (family == "stackgan") StackGan(version, device).Embed("warm");   // also loads the byte-pair tables
        else Generator(version, family, device);
    }

    private T Get<T>(ModelVersion version, Device device, Func<T> load) where T : class, IDisposable
    {
        if (entries.TryGetValue(version.Id, out var hit))
        {
            hits++;
            hit.LastUsed = ++clock;
            return hit.Model as T ?? throw new Jobs.JobInputException($"{version.ModelName} {version.Version} is not a {typeof(T).Name} model.");
        }
        misses++;
        var sha = Weights.Sha256(version.WeightsPath);
        if (!string.Equals(sha, version.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new Jobs.JobInputException($"Weights of {version.ModelName} {version.Version} changed on disk (sha256 {sha[..12]}).");
        var model = load();
        var module = (nn.Module)(object)model;
        module.to(device);
        module.eval();
        long bytes = module.parameters().Sum(p => p.NumberOfElements * p.ElementSize) + module.buffers().Sum(b => b.NumberOfElements * b.ElementSize);
        Evict(BudgetBytes - bytes);
        entries[version.Id] = new Entry(model, bytes) { LastUsed = ++clock };
        names[version.Id] = (version.ModelName, version.Version);
        Publish();
        log.LogInformation("Loaded {Model} {Version} on {Device}: {MiB:F1} MiB; cache holds {Count} model(s), {TotalMiB:F1} of {BudgetMiB} MiB",
            version.ModelName, version.Version, device.ToString(), bytes / 1048576.0, entries.Count, LoadedBytes / 1048576.0, options.Value.ModelCacheMegabytes);
        return model;
    }

    /// <summary>Unloads least recently used models until at most <paramref name="keepBytes"/> stay loaded.</summary>
    private void Evict(long keepBytes)
    {
        while (entries.Count > 0 && LoadedBytes > Math.Max(0, keepBytes))
        {
            var (id, lru) = entries.MinBy(e => e.Value.LastUsed);
            entries.Remove(id);
            lru.Model.Dispose();
            evictions++;
            Publish();
            log.LogInformation("Unloaded model version {VersionId} ({MiB:F1} MiB) to stay within the model cache budget", id, lru.Bytes / 1048576.0);
        }
    }

    public void Dispose()
    {
        foreach (var e in entries.Values) e.Model.Dispose();
        entries.Clear();
    }
}
