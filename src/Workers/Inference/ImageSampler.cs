using GanService.Models;
using GanService.Models.Dcgan;
using static TorchSharp.torch;

namespace GanService.Workers.Inference;

/// <summary>What one job asks of a generator: a latent per seed (scaled by the truncation) and a label per seed.</summary>
public sealed record SampleRequest(long[] Seeds, int[]? Labels, double Truncation = 1.0)
{
    public int Count => Seeds.Length;
}

/// <summary>Runs a generator for given seeds/labels and returns 8-bit HWC pixels per image. Call on the device thread.</summary>
public static class ImageSampler
{
    public static byte[][] Sample(IImageGenerator g, Device device, IReadOnlyList<long> seeds, IReadOnlyList<int>? labels, double truncation) =>
        Sample(g, device, [new SampleRequest([.. seeds], labels is null ? null : [.. labels], truncation)]);

    /// <summary>
    /// One forward pass for several requests: their latents and labels are concatenated, so the images come out in
    /// request order. Each latent depends only on its own seed and truncation, and the generator is batch-invariant
    /// (see GeneratorTests), so an image is the same whichever requests it was batched with.
    /// </summary>
    public static byte[][] Sample(IImageGenerator g, Device device, IReadOnlyList<SampleRequest> requests)
    {
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        bool conditional = requests.Any(r => r.Labels is not null);
        if (conditional && requests.Any(r => r.Labels is null || r.Labels.Length != r.Count))
            throw new ArgumentException("every request to a conditional generator needs one label per seed.");
        var z = cat(requests.Select(r => Latents.ForSeeds(r.Seeds, g.LatentDim, r.Truncation)).ToArray(), 0).to(device);
        var y = conditional ? tensor(requests.SelectMany(r => r.Labels!).Select(l => (long)l).ToArray()).to(device) : null;
        return ToPixels(g.Generate(z, y));
    }

    /// <summary>Images [N, C, H, W] in [−1, 1] as N arrays of 8-bit HWC pixels, rounded as served.</summary>
    public static byte[][] ToPixels(Tensor images)
    {
        using var scope = NewDisposeScope();
        // [-1, 1] → [0, 255], NCHW → NHWC
        var bytes = images.add(1).mul(127.5).round().clamp(0, 255).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous().cpu();
        var flat = bytes.data<byte>().ToArray();
        int per = (int)(bytes.shape[1] * bytes.shape[2] * bytes.shape[3]);
        var result = new byte[bytes.shape[0]][];
        for (int i = 0; i < result.Length; i++) result[i] = flat.AsSpan(i * per, per).ToArray();
        return result;
    }
}
