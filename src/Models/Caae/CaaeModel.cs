using System.Text.Json;
using GanService.Models.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.Caae;

/// <summary>
/// The served half of a CAAE: encoder and generator in one module, so one safetensors file (keys <c>encoder.*</c> and
/// <c>generator.*</c>) and one sha256 identify a version. The discriminators only matter while training.
/// </summary>
public sealed class CaaeModel : nn.Module
{
    private readonly CaaeEncoder encoder;
    private readonly CaaeGenerator generator;

    public CaaeConfig Config { get; }
    public CaaeEncoder Encoder => encoder;
    public CaaeGenerator Generator => generator;

    /// <summary>Builds E then G (in that order, so a seeded trainer initialises them as it always has).</summary>
    public CaaeModel(CaaeConfig config) : base(nameof(CaaeModel))
    {
        config.Validate();
        Config = config;
        encoder = new CaaeEncoder(config);
        generator = new CaaeGenerator(config);
        RegisterComponents();
    }

    /// <summary>E's identity codes [N, ZDim] for faces [N, 3, R, R] in [−1, 1], in eval and inference mode.</summary>
    public Tensor Encode(Tensor faces)
    {
        eval();
        using var _ = inference_mode();
        return encoder.forward(faces);
    }

    /// <summary>G's faces for codes [N, ZDim] at age group and gender indices [N] (int64), in eval and inference mode.</summary>
    public Tensor Draw(Tensor z, Tensor ages, Tensor genders)
    {
        eval();
        using var _ = inference_mode();
        using var label = Config.Label(ages, genders);
        return generator.forward(z, label.to(z.device));
    }

    /// <summary>Each face drawn again at its own target age group and gender: G(E(faces), label).</summary>
    public Tensor Transform(Tensor faces, Tensor ages, Tensor genders)
    {
        using var z = Encode(faces);
        return Draw(z, ages, genders);
    }

    /// <summary>
    /// One face [1, 3, R, R] in [−1, 1] on white, drawn again at each of <paramref name="ageGroups"/> (indices): encoded
    /// once, its z paired with each age's label. Babies are drawn without gender (their emoji have none), others with
    /// <paramref name="gender"/>. Returns [ages, 3, R, R] on the model's device.
    /// </summary>
    public Tensor Age(Tensor face, IReadOnlyList<int> ageGroups, int gender)
    {
        if (face.ndim != 4 || face.shape[0] != 1) throw new ArgumentException($"expected one face [1, 3, R, R], got [{string.Join(", ", face.shape)}].");
        if (ageGroups.Count == 0 || ageGroups.Any(a => a < 0 || a >= Config.AgeGroups)) throw new ArgumentException($"age groups must be 0..{Config.AgeGroups - 1}.");
        if (gender < 0 || gender >= Config.Genders) throw new ArgumentException($"gender must be 0..{Config.Genders - 1}.");
        using var scope = NewDisposeScope();
        var ages = tensor(ageGroups.Select(a => (long)a).ToArray());
        var genders = Faces.GenderAt(ages, full(ageGroups.Count, (long)gender));
        var device = encoder.parameters().First().device;
        return Draw(Encode(face.to(device)).expand(ageGroups.Count, -1), ages, genders).MoveToOuterDisposeScope();
    }

    /// <summary>A model from its config JSON (a <see cref="CaaeConfig"/>) and its safetensors weights, in eval mode.</summary>
    public static CaaeModel Load(string configJson, string weightsPath)
    {
        var config = JsonSerializer.Deserialize<CaaeConfig>(configJson, new JsonSerializerOptions(JsonSerializerDefaults.Web))
            ?? throw new InvalidDataException("a caae model needs a config.");
        var model = new CaaeModel(config);
        try
        {
            Weights.Load(model, weightsPath);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
