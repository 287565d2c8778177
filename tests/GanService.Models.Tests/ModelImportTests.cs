using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using GanService.Models.Dcgan;
using static TorchSharp.torch;
using Generator = GanService.Models.Dcgan.Generator;

namespace GanService.Models.Tests;

/// <summary>Import checks against files written here byte by byte, as PyTorch's safetensors.torch.save_file writes them.</summary>
public sealed class ModelImportTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("ganservice-import-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>A safetensors file: 8-byte little-endian header length, the JSON header, the tensors' bytes in order.</summary>
    private static void WriteSafetensors(string path, IReadOnlyList<(string Name, long[] Shape, float[]? F32, long[]? I64)> tensors)
    {
        var header = new Dictionary<string, object>();
        var data = new MemoryStream();
        var b = new byte[8];
        foreach (var (name, shape, f32, i64) in tensors)
        {
            long begin = data.Length;
            if (f32 is not null) foreach (var v in f32) { BinaryPrimitives.WriteSingleLittleEndian(b, v); data.Write(b, 0, 4); }
            if (i64 is not null) foreach (var v in i64) { BinaryPrimitives.WriteInt64LittleEndian(b, v); data.Write(b, 0, 8); }
            header[name] = new { dtype = f32 is not null ? "F32" : "I64", shape, data_offsets = new[] { begin, data.Length } };
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, json.Length);
        file.Write(length);
        file.Write(json);
        data.Position = 0;
        data.CopyTo(file);
    }

    /// <summary>netG.state_dict() of pytorch/examples dcgan/main.py (nz 100, ngf 64, nc 3), values a fixed pattern.</summary>
    private static List<(string, long[], float[]?, long[]?)> PytorchExamplesDcgan()
    {
        var tensors = new List<(string, long[], float[]?, long[]?)>();
        void Conv(int index, long cin, long cout)
        {
            long n = cin * cout * 16;
            tensors.Add(($"main.{index}.weight", [cin, cout, 4, 4], Enumerable.Range(0, (int)n).Select(i => 0.02f * MathF.Sin(i + index)).ToArray(), null));
        }
        void Norm(int index, long c)
        {
            tensors.Add(($"main.{index}.weight", [c], Enumerable.Repeat(1.0f, (int)c).ToArray(), null));
            tensors.Add(($"main.{index}.bias", [c], new float[c], null));
            tensors.Add(($"main.{index}.running_mean", [c], Enumerable.Range(0, (int)c).Select(i => 0.001f * i).ToArray(), null));
            tensors.Add(($"main.{index}.running_var", [c], Enumerable.Repeat(1.0f, (int)c).ToArray(), null));
            tensors.Add(($"main.{index}.num_batches_tracked", [], null, [1234]));
        }
        Conv(0, 100, 512); Norm(1, 512);
        Conv(3, 512, 256); Norm(4, 256);
        Conv(6, 256, 128); Norm(7, 128);
        Conv(9, 128, 64); Norm(10, 64);
        Conv(12, 64, 3);
        return tensors;
    }

    private static string ReferenceConfig => JsonSerializer.Serialize(DcganConfig.Reference64, new JsonSerializerOptions(JsonSerializerDefaults.Web));

    [Fact]
    public void A_pytorch_examples_dcgan_state_dict_loads_into_our_dcgan_with_every_value_in_place()
    {
        var path = Path.Combine(directory, "netG.safetensors");
        WriteSafetensors(path, PytorchExamplesDcgan());

        var imported = ModelImport.Validate("dcgan", ReferenceConfig, path);
        Assert.Equal((64, 3, 0), (imported.Resolution, imported.Channels, imported.NumClasses));

        using var g = new Generator(DcganConfig.Reference64);
        Weights.Load(g, path);
        var state = g.state_dict();
        Assert.Equal(0.02f * MathF.Sin(1000 + 6), state["main.6.weight"].flatten()[1000].item<float>(), 6);
        Assert.Equal(0.001f * 7, state["main.4.running_mean"][7].item<float>(), 6);
        Assert.Equal(1234L, state["main.10.num_batches_tracked"].item<long>());
        g.eval();
        using var _ = inference_mode();
        using var image = g.forward(randn(1, 100), null);
        Assert.Equal([1L, 3, 64, 64], image.shape);
        Assert.True(isfinite(image).all().item<bool>());
    }

    [Fact]
    public void Mismatched_shapes_missing_or_extra_keys_and_corrupt_files_are_refused_by_name()
    {
        var tensors = PytorchExamplesDcgan();
        var path = Path.Combine(directory, "bad.safetensors");

        var wrongShape = tensors.Select(t => t.Item1 == "main.12.weight" ? (t.Item1, new long[] { 64, 1, 4, 4 }, t.Item3![..1024], t.Item4) : t).ToList();
        WriteSafetensors(path, wrongShape);
        var e = Assert.Throws<ModelImportException>(() => ModelImport.Validate("dcgan", ReferenceConfig, path));
        Assert.Equal("weights", e.Field);
        Assert.Contains("'main.12.weight' is [64, 1, 4, 4], the config needs [64, 3, 4, 4]", e.Message);

        WriteSafetensors(path, tensors.Where(t => t.Item1 != "main.1.bias").Append(("extra.weight", [1], [0f], null)).ToList());
        e = Assert.Throws<ModelImportException>(() => ModelImport.Validate("dcgan", ReferenceConfig, path));
        Assert.Contains("missing 'main.1.bias'", e.Message);
        Assert.Contains("unexpected 'extra.weight'", e.Message);

        WriteSafetensors(path, tensors);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        e = Assert.Throws<ModelImportException>(() => ModelImport.Validate("dcgan", ReferenceConfig, path));
        Assert.Equal("weights", e.Field);
        Assert.Contains("truncated", e.Message);

        var nan = tensors.Select(t => t.Item1 == "main.0.weight" ? (t.Item1, t.Item2, t.Item3!.Select((v, i) => i == 5 ? float.NaN : v).ToArray(), t.Item4) : t).ToList();
        WriteSafetensors(path, nan);
        e = Assert.Throws<ModelImportException>(() => ModelImport.Validate("dcgan", ReferenceConfig, path));
        Assert.Contains("NaN", e.Message);

        e = Assert.Throws<ModelImportException>(() => ModelImport.Validate("dcgan", """{"imageSize":64,"channels":3,"latentDim":100,"numClasses":0,"ngf":64,"ndf":64,"depth":9}""", path));
        Assert.Equal("config", e.Field);
    }

    [Fact]
    public void Saved_weights_round_trip_bitwise_with_pytorch_key_names()
    {
        manual_seed(3);
        using var g = new ProGan.ProGanGenerator(new ProGan.ProGanConfig(FinalResolution: 16, LatentDim: 8, FmapBase: 64, FmapMax: 16));
        var path = Path.Combine(directory, "progan.safetensors");
        Weights.Save(g, path);
        var names = SafeTensorsFile.ReadHeader(path).Select(e => e.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(g.state_dict().Keys.Order(StringComparer.Ordinal), names);
        Assert.Contains("blocks.1.conv2.weight", names);

        var config = JsonSerializer.Serialize(g.Config, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        ModelImport.Validate("progan", config, path);
        using var loaded = new ProGan.ProGanGenerator(g.Config);
        Weights.Load(loaded, path);
        foreach (var (name, value) in g.state_dict())
            Assert.True(Bitwise.Equal(loaded.state_dict()[name], value), $"{name} differs after the round trip");
    }
}
