using static TorchSharp.torch;

namespace GanService.Models.Tests;

static class Bitwise
{
    /// <summary>Same shape, dtype and bytes: stricter than <c>eq</c>, which calls −0 and +0 equal.</summary>
    public static bool Equal(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var left = a.contiguous();
        using var right = b.contiguous();
        return left.bytes.SequenceEqual(right.bytes);
    }
}
