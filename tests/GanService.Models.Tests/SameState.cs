using static TorchSharp.torch;

namespace GanService.Models.Tests;

static class SameState
{
    /// <summary>
    /// Every tensor of <paramref name="resumed"/>'s state (parameters and buffers) equals <paramref name="straight"/>'s,
    /// element by element; the exact-resume tests of every trainer assert it. A failure names the tensor, its largest
    /// difference and whether either side holds NaN (which never equals itself).
    /// </summary>
    public static void AfterResuming(string net, nn.Module straight, nn.Module resumed)
    {
        var other = resumed.state_dict();
        foreach (var (key, value) in straight.state_dict())
            if (!value.equal(other[key]).all().item<bool>())
                Assert.Fail(Differs(net, key, value, other[key]));
    }

    private static string Differs(string net, string key, Tensor straight, Tensor resumed)
    {
        // In float64, so integer buffers (num_batches_tracked) are described too.
        using var a = straight.to(ScalarType.Float64);
        using var b = resumed.to(ScalarType.Float64);
        return $"{net} {key} differs after resuming: largest difference {a.sub(b).abs().nan_to_num(-1).max().item<double>()}, " +
            $"NaN in straight {a.isnan().any().item<bool>()}, in resumed {b.isnan().any().item<bool>()}";
    }
}
