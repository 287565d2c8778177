using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.Dcgan;

public static class Latents
{
    /// <summary>
    /// Latent i is drawn from its own generator seeded with <c>seed + i</c>, so an image depends only on its own seed,
    /// never on the batch it was computed in. <paramref name="truncation"/> scales z towards the mean (ψ in (0, 1]).
    /// </summary>
    public static Tensor ForSeeds(IReadOnlyList<long> seeds, int latentDim, double truncation = 1.0)
    {
        var rows = new Tensor[seeds.Count];
        try
        {
            for (int i = 0; i < seeds.Count; i++)
            {
                using var gen = new torch.Generator(unchecked((ulong)seeds[i]));
                rows[i] = randn([1, latentDim], generator: gen);
            }
            var z = cat(rows, 0);
            if (truncation != 1.0) z.mul_(truncation);
            return z;
        }
        finally
        {
            foreach (var r in rows) r?.Dispose();
        }
    }

    /// <summary>
    /// <paramref name="steps"/> latents on the great circle from <paramref name="from"/> to <paramref name="to"/> (each
    /// [1, D]), both ends included: spherical interpolation (Shoemake 1985), as GAN latent walks use, because a straight
    /// line between two Gaussian draws passes through latents far shorter than any the model was trained on. Nearly
    /// parallel ends fall back to the straight line. Returns [steps, D].
    /// </summary>
    public static Tensor Slerp(Tensor from, Tensor to, int steps)
    {
        if (steps < 2) throw new ArgumentException($"a walk needs 2 or more steps, got {steps}.");
        using var scope = NewDisposeScope();
        var a = from.to(ScalarType.Float64);
        var b = to.to(ScalarType.Float64);
        double cos = Math.Clamp((a * b).sum().item<double>() / (a.norm().item<double>() * b.norm().item<double>()), -1, 1);
        double omega = Math.Acos(cos), sin = Math.Sin(omega);
        var rows = new Tensor[steps];
        for (int i = 0; i < steps; i++)
        {
            double t = (double)i / (steps - 1);
            rows[i] = sin < 1e-6
                ? a * (1 - t) + b * t
                : a * (Math.Sin((1 - t) * omega) / sin) + b * (Math.Sin(t * omega) / sin);
        }
        return cat(rows, 0).to(from.dtype).MoveToOuterDisposeScope();
    }
}
