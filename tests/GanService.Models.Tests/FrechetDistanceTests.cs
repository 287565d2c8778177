using GanService.Models.Evaluation;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

public sealed class FrechetDistanceTests
{
    static Tensor Features(long seed, long n = 4000, long dim = 16)
    {
        using var gen = new TorchSharp.torch.Generator((ulong)seed);
        using var mixing = randn([dim, dim], generator: gen, dtype: ScalarType.Float64);
        // correlated features with a non-zero mean, like a network's
        using var raw = randn([n, dim], generator: gen, dtype: ScalarType.Float64);
        return raw.matmul(mixing) + 0.5;
    }

    [Fact]
    public void Frechet_distance_of_identical_sets_is_zero()
    {
        using var x = Features(1);
        Assert.Equal(0.0, FrechetDistance.Between(x, x), 1e-8);
    }

    [Fact]
    public void Frechet_distance_of_mean_shifted_sets_is_squared_shift()
    {
        using var x = Features(2);
        using var d = linspace(-1, 2, 16, dtype: ScalarType.Float64);
        using var shifted = x + d;
        double expected = d.square().sum().item<double>();

        Assert.Equal(expected, FrechetDistance.Between(x, shifted), 1e-6);
        Assert.Equal(expected, FrechetDistance.Between(shifted, x), 1e-6);
    }

    [Fact]
    public void Frechet_distance_to_doubled_set_is_mean_norm_plus_covariance_trace()
    {
        // x and 2x: |μ − 2μ|² + tr C + tr 4C − 2 tr √(4C²) = |μ|² + tr C, which needs the matrix square root right.
        using var x = Features(3);
        using var doubled = x * 2;
        using var stats = FeatureStatistics.Of(x);
        double expected = stats.Mean.square().sum().item<double>() + stats.Covariance.trace().item<double>();

        Assert.Equal(expected, FrechetDistance.Between(x, doubled), 1e-6);
    }

    [Fact]
    public void Frechet_distance_between_different_samples_of_one_distribution_is_small_and_positive()
    {
        using var a = Features(4, n: 4000);
        using var b = Features(5, n: 4000);
        using var c = Features(4, n: 8000).narrow(0, 4000, 4000);  // same mixing matrix as a, fresh rows
        using var statsA = FeatureStatistics.Of(a);
        double scale = statsA.Covariance.trace().item<double>();

        double sameDistribution = FrechetDistance.Between(a, c);
        Assert.InRange(sameDistribution, 0.0, 0.05 * scale);
        Assert.True(FrechetDistance.Between(a, b) > 10 * sameDistribution, "different mixings should be much further apart");
    }

    [Fact]
    public void Feature_sets_of_different_dimension_are_rejected()
    {
        using var a = Features(6, dim: 16);
        using var b = Features(7, dim: 8);
        Assert.Throws<ArgumentException>(() => FrechetDistance.Between(a, b));
    }
}
