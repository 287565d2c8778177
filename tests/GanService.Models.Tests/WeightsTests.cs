using System.Buffers.Binary;
using System.Text.Json;
using GanService.Models.Dcgan;
using GanService.Models.Layers;
using static TorchSharp.torch;
using Generator = GanService.Models.Dcgan.Generator;

namespace GanService.Models.Tests;

public sealed class WeightsTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("ganservice-weights-").FullName;

    public WeightsTests() => set_num_threads(1);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Safetensors_round_trip_is_exact()
    {
        manual_seed(1);
        using var saved = new Generator(DcganConfig.Fashion32);
        Init.Dcgan(saved);
        manual_seed(2);
        using var loaded = new Generator(DcganConfig.Fashion32);
        var path = Path.Combine(directory, "generator.safetensors");

        var sha = Weights.Save(saved, path);
        Weights.Load(loaded, path);

        Assert.Equal(64, sha.Length);
        Assert.Equal(sha, Weights.Sha256(path));
        var savedState = saved.state_dict();
        var loadedState = loaded.state_dict();
        Assert.Equal(savedState.Keys.Order(), loadedState.Keys.Order());
        foreach (var (key, value) in savedState)
            Assert.True(Bitwise.Equal(value, loadedState[key]), $"{key} differs after the round trip");
        Assert.Contains("main.0.weight", HeaderKeys(path));
        Assert.Contains("main.1.running_var", HeaderKeys(path));

        saved.eval();
        loaded.eval();
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        var z = Latents.ForSeeds([1, 2, 3], 100);
        var labels = tensor(new long[] { 0, 5, 9 });
        Assert.True(Bitwise.Equal(saved.forward(z, labels), loaded.forward(z, labels)));
    }

    /// <summary>The tensor names in a safetensors header: 8-byte little-endian length, then a JSON object.</summary>
    static IReadOnlyList<string> HeaderKeys(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, length));
        return header.RootElement.EnumerateObject().Select(p => p.Name).Where(n => n != "__metadata__").ToList();
    }
}
