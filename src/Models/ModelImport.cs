using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models;

/// <summary>Why an import was refused: the request field at fault and a message a user can act on.</summary>
public sealed class ModelImportException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>What an imported generator is, read from its built network.</summary>
public sealed record ImportedGenerator(int Resolution, int Channels, int LatentDim, int NumClasses, string ConfigJson);

/// <summary>
/// Checks that safetensors weights fit a family's network built from a config, before anything is registered:
/// the config parses and validates, the file is well-formed, every key the network has is there with its shape and
/// no other key is, and the weights then load strictly and give finite values.
/// </summary>
public static class ModelImport
{
    public static IReadOnlyList<string> Families { get; } = ["dcgan", "progan"];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    public static ImportedGenerator Validate(string family, string configJson, string weightsPath)
    {
        if (!Families.Contains(family)) throw new ModelImportException("family", $"Unknown family '{family}'. Importable: {string.Join(", ", Families)}.");
        string normalized;
        try
        {
            normalized = family switch
            {
                "dcgan" => Check(JsonSerializer.Deserialize<Dcgan.DcganConfig>(configJson, Json), c => c.Validate()),
                _ => Check(JsonSerializer.Deserialize<ProGan.ProGanConfig>(configJson, Json), c => c.Validate()),
            };
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NotSupportedException)
        {
            throw new ModelImportException("config", $"The {family} config is invalid: {e.Message}");
        }

        IReadOnlyList<SafeTensorEntry> entries;
        try { entries = SafeTensorsFile.ReadHeader(weightsPath); }
        catch (InvalidDataException e) { throw new ModelImportException("weights", $"The weights are not a valid safetensors file: {e.Message}"); }

        using var scope = NewDisposeScope();
        IImageGenerator? generator = null;
        try
        {
            generator = family == "dcgan"
                ? new Dcgan.Generator(JsonSerializer.Deserialize<Dcgan.DcganConfig>(normalized, Json)!)
                : new ProGan.ProGanGenerator(JsonSerializer.Deserialize<ProGan.ProGanConfig>(normalized, Json)!);
            var module = (nn.Module)generator;
            var expected = module.state_dict();
            var given = entries.ToDictionary(e => e.Name);
            var problems = new List<string>();
            foreach (var (name, tensor) in expected)
            {
                if (!given.TryGetValue(name, out var entry)) problems.Add($"missing '{name}' [{string.Join(", ", tensor.shape)}]");
                else if (!entry.Shape.SequenceEqual(tensor.shape))
                    problems.Add($"'{name}' is [{string.Join(", ", entry.Shape)}], the config needs [{string.Join(", ", tensor.shape)}]");
                else if (entry.DType != DTypeName(tensor.dtype))
                    problems.Add($"'{name}' is {entry.DType}, the network holds {DTypeName(tensor.dtype)}");
            }
            problems.AddRange(given.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal).Select(k => $"unexpected '{k}'"));
            if (problems.Count > 0)
                throw new ModelImportException("weights", $"The weights do not fit a {family} network with this config: {string.Join("; ", problems.Take(10))}{(problems.Count > 10 ? $"; and {problems.Count - 10} more" : "")}.");
            Weights.Load(module, weightsPath);
            foreach (var (name, tensor) in module.state_dict())
                if (tensor.is_floating_point() && !isfinite(tensor).all().item<bool>())
                    throw new ModelImportException("weights", $"'{name}' holds NaN or infinite values.");
            return new ImportedGenerator(generator.ImageSize, generator.Channels, generator.LatentDim, generator.NumClasses, normalized);
        }
        finally
        {
            generator?.Dispose();
        }
    }

    private static string Check<T>(T? config, Action<T> validate) where T : class
    {
        if (config is null) throw new ArgumentException("the config is null.");
        validate(config);
        return JsonSerializer.Serialize(config, Json);
    }

    private static string DTypeName(ScalarType t) => t switch
    {
        ScalarType.Float64 => "F64", ScalarType.Float32 => "F32", ScalarType.Float16 => "F16", ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64", ScalarType.Int32 => "I32", ScalarType.Int16 => "I16", ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8", ScalarType.Bool => "BOOL", _ => t.ToString(),
    };
}
