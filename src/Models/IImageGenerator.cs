using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models;

/// <summary>
/// What the worker needs of any image generator it serves: shapes, and latents (+ labels) → images. Implemented by
/// TorchSharp modules (Prepare relies on it).
/// </summary>
public interface IImageGenerator : IDisposable
{
    int ImageSize { get; }
    int Channels { get; }
    int LatentDim { get; }
    /// <summary>0 for an unconditional model.</summary>
    int NumClasses { get; }

    /// <summary>[N, LatentDim] (+ [N] int64 labels when conditional) → [N, Channels, ImageSize, ImageSize], about [−1, 1].</summary>
    Tensor Generate(Tensor z, Tensor? labels);

    /// <summary>Switches to inference mode and moves the weights to <paramref name="device"/>.</summary>
    void Prepare(Device device)
    {
        var module = (nn.Module)this;
        module.to(device);
        module.eval();
    }

    /// <summary>Builds a generator of <paramref name="family"/> from its config JSON and loads its safetensors weights.</summary>
    public static IImageGenerator Load(string family, string configJson, string weightsPath)
    {
        var json = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web);
        IImageGenerator g = family switch
        {
            "dcgan" => new Dcgan.Generator(System.Text.Json.JsonSerializer.Deserialize<Dcgan.DcganConfig>(configJson, json)
                ?? throw new InvalidDataException("a dcgan model needs a config.")),
            "progan" => new ProGan.ProGanGenerator(System.Text.Json.JsonSerializer.Deserialize<ProGan.ProGanConfig>(configJson, json)
                ?? throw new InvalidDataException("a progan model needs a config.")),
            _ => throw new NotSupportedException($"model family '{family}' cannot be served (known: dcgan, progan)."),
        };
        try
        {
            Weights.Load((nn.Module)g, weightsPath);
            return g;
        }
        catch
        {
            g.Dispose();
            throw;
        }
    }
}
