using GanService.Models.Dcgan;
using Generator = GanService.Models.Dcgan.Generator;

namespace GanService.Models.Tests;

public sealed class ReferenceLayoutTests
{
    [Fact]
    public void Reference_dcgan_state_dict_keys_match_pytorch_examples()
    {
        // netG.state_dict() of pytorch/examples dcgan/main.py with nz = 100, ngf = 64, nc = 3.
        var expected = new List<(string Key, long[] Shape)> { ("main.0.weight", [100, 512, 4, 4]) };
        AddBatchNorm(expected, 1, 512);
        expected.Add(("main.3.weight", [512, 256, 4, 4]));
        AddBatchNorm(expected, 4, 256);
        expected.Add(("main.6.weight", [256, 128, 4, 4]));
        AddBatchNorm(expected, 7, 128);
        expected.Add(("main.9.weight", [128, 64, 4, 4]));
        AddBatchNorm(expected, 10, 64);
        expected.Add(("main.12.weight", [64, 3, 4, 4]));

        using var g = new Generator(DcganConfig.Reference64);
        var actual = g.state_dict().Select(kv => (kv.Key, kv.Value.shape)).OrderBy(kv => kv.Key, StringComparer.Ordinal);

        Assert.Equal(
            expected.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} [{string.Join(", ", kv.Shape)}]"),
            actual.Select(kv => $"{kv.Key} [{string.Join(", ", kv.shape)}]"));
    }

    static void AddBatchNorm(List<(string, long[])> keys, int index, long channels)
    {
        keys.Add(($"main.{index}.weight", [channels]));
        keys.Add(($"main.{index}.bias", [channels]));
        keys.Add(($"main.{index}.running_mean", [channels]));
        keys.Add(($"main.{index}.running_var", [channels]));
        keys.Add(($"main.{index}.num_batches_tracked", []));
    }
}
