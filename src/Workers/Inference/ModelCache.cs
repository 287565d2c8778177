using TorchSharp;
using System.Collections.Concurrent;
using System.Text.Json;
using GanService.Core.Data;
using GanService.Models;
using GanService.Models.Dcgan;
using static TorchSharp.torch;
using Generator = GanService.Models.Dcgan.Generator;

namespace GanService.Workers.Inference;

/// <summary>Generators loaded once per process, keyed by model version, checked against the version's sha256.</summary>
public sealed class ModelCache(ILogger<ModelCache> log) : IDisposable
{
    private readonly ConcurrentDictionary<Guid, Generator> generators = new();

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Call on the device thread.</summary>
    public Generator Generator(ModelVersion version, Device device) => generators.GetOrAdd(version.Id, _ =>
    {
        var sha = Weights.Sha256(version.WeightsPath);
        if (!string.Equals(sha, version.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new Jobs.JobInputException($"Weights of {version.ModelName} {version.Version} changed on disk (sha256 {sha[..12]}).");
        var config = JsonSerializer.Deserialize<DcganConfig>(version.Config, Json)
            ?? throw new InvalidDataException($"Model {version.ModelName} has no config.");
        var g = new Generator(config);
        Weights.Load(g, version.WeightsPath);
        g.to(device);
        g.eval();
        log.LogInformation("Loaded {Model} {Version} on {Device}", version.ModelName, version.Version, device.ToString());
        return g;
    });

    public void Dispose()
    {
        foreach (var g in generators.Values) g.Dispose();
    }
}
