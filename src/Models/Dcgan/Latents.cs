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
}
