using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.Caae;

/// <summary>The augmentation a few hundred emoji faces need, for the CAAE and for the classifiers that judge it.</summary>
public static class FaceAugment
{
    /// <summary>Flip half the faces, shift each by up to <paramref name="maxShift"/> pixels (the uncovered edge white),
    /// and scale each face's distance from white by 1 ± <paramref name="jitter"/>: small changes that keep skin tone
    /// and age readable. Random draws come from <paramref name="gen"/>.</summary>
    public static Tensor Apply(Tensor faces, TorchSharp.torch.Generator gen, int maxShift, double jitter)
    {
        using var scope = NewDisposeScope();
        long n = faces.shape[0], r = faces.shape[2];
        var flip = rand([n, 1, 1, 1], generator: gen).lt(0.5);
        var x = where(flip, faces.flip(3), faces);
        if (maxShift > 0)
        {
            var padded = nn.functional.pad(x, [maxShift, maxShift, maxShift, maxShift], PaddingModes.Constant, 1.0);
            var offsets = randint(0, 2 * maxShift + 1, [n, 2], generator: gen, dtype: ScalarType.Int64);
            var rows = new Tensor[n];
            for (long i = 0; i < n; i++)
                rows[i] = padded[i].narrow(1, offsets[i, 0].item<long>(), r).narrow(2, offsets[i, 1].item<long>(), r);
            x = stack(rows);
        }
        if (jitter > 0)
        {
            var scale = rand([n, 1, 1, 1], generator: gen).mul(2 * jitter).add(1 - jitter);
            x = (1 - (1 - x) * scale).clamp(-1, 1);
        }
        return x.MoveToOuterDisposeScope();
    }
}
