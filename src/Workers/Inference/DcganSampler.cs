using GanService.Models.Dcgan;
using static TorchSharp.torch;
using Generator = GanService.Models.Dcgan.Generator;

namespace GanService.Workers.Inference;

/// <summary>Runs a generator for given seeds/labels and returns 8-bit HWC pixels per image. Call on the device thread.</summary>
public static class DcganSampler
{
    public static byte[][] Sample(Generator g, Device device, IReadOnlyList<long> seeds, IReadOnlyList<int>? labels, double truncation)
    {
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var z = Latents.ForSeeds(seeds, g.Config.LatentDim, truncation).to(device);
        var y = labels is null ? null : tensor(labels.Select(l => (long)l).ToArray()).to(device);
        var images = g.forward(z, y);
        // [-1, 1] → [0, 255], NCHW → NHWC
        var bytes = images.add(1).mul(127.5).round().clamp(0, 255).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous().cpu();
        var flat = bytes.data<byte>().ToArray();
        int per = (int)(bytes.shape[1] * bytes.shape[2] * bytes.shape[3]);
        var result = new byte[seeds.Count][];
        for (int i = 0; i < result.Length; i++) result[i] = flat.AsSpan(i * per, per).ToArray();
        return result;
    }
}
