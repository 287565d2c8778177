using GanService.Models.ProGan;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

public sealed class ProGanTests
{
    public ProGanTests() => set_num_threads(1);

    private static readonly ProGanConfig Small = new(FinalResolution: 32, Channels: 3, LatentDim: 16, FmapBase: 64, FmapMax: 16);

    [Fact]
    public void Upsample2x_is_nearest_neighbour_and_its_gradient_sums_each_2x2_block()
    {
        manual_seed(3);
        using var x = randn(2, 3, 5, 4, requires_grad: true);
        using var y = ProGanOps.Upsample2x(x);
        using var expected = nn.functional.interpolate(x.detach(), scale_factor: [2, 2], mode: InterpolationMode.Nearest);
        Assert.Equal(new long[] { 2, 3, 10, 8 }, y.shape);
        Assert.True(y.detach().eq(expected).all().item<bool>());
        // d(Σ w·y)/dx is the sum of w over each pixel's 2×2 block.
        using var w = randn(2, 3, 10, 8);
        y.mul(w).sum().backward();
        using var blockSums = nn.functional.avg_pool2d(w, 2).mul(4);
        Assert.True(x.grad!.allclose(blockSums, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Every_level_gives_its_resolution_in_both_networks()
    {
        manual_seed(1);
        using var g = new ProGanGenerator(Small);
        using var d = new ProGanDiscriminator(Small);
        using var z = randn(3, Small.LatentDim);
        for (int level = 0; level <= Small.MaxLevel; level++)
        {
            using var image = g.Forward(z, level, 0.5);
            long size = 4 << level;
            Assert.Equal(new long[] { 3, 3, size, size }, image.shape);
            using var scores = d.Forward(image, level, 0.5);
            Assert.Equal(new long[] { 3 }, scores.shape);
            Assert.True(isfinite(scores).all().item<bool>());
        }
        Assert.Throws<ArgumentException>(() => d.Forward(randn(2, 3, 16, 16), 1, 1.0));
    }

    [Fact]
    public void Fade_in_at_alpha_zero_is_exactly_the_previous_level_upsampled_and_at_one_the_new_level()
    {
        manual_seed(2);
        using var g = new ProGanGenerator(Small);
        using var d = new ProGanDiscriminator(Small);
        using var z = randn(4, Small.LatentDim);
        for (int level = 1; level <= Small.MaxLevel; level++)
        {
            using var faded = g.Forward(z, level, 0.0);
            using var previous = g.Forward(z, level - 1, 1.0);
            using var upsampled = ProGanOps.Upsample2x(previous);
            Assert.True(Bitwise.Equal(faded, upsampled), $"G level {level}: alpha 0 is not the previous level");
            using var full = g.Forward(z, level, 1.0);
            Assert.False(Bitwise.Equal(full, faded), $"G level {level}: alpha 1 equals alpha 0");

            using var image = randn(4, 3, 4 << level, 4 << level);
            using var scoreFaded = d.Forward(image, level, 0.0);
            using var down = ProGanOps.Downsample2x(image);
            using var scorePrevious = d.Forward(down, level - 1, 1.0);
            Assert.True(Bitwise.Equal(scoreFaded, scorePrevious), $"D level {level}: alpha 0 is not the previous level");
        }
    }

    [Fact]
    public void Generator_image_does_not_depend_on_the_batch_it_is_in()
    {
        manual_seed(3);
        using var g = new ProGanGenerator(Small);
        g.eval();
        using var z = randn(8, Small.LatentDim);
        using var _ = no_grad();
        using var batch = g.Forward(z, Small.MaxLevel, 1.0);
        for (int i = 0; i < 8; i += 3)
        {
            using var alone = g.Forward(z.narrow(0, i, 1), Small.MaxLevel, 1.0);
            using var row = batch.narrow(0, i, 1);
            Assert.True(Bitwise.Equal(alone, row), $"image {i} differs alone and in a batch of 8");
        }
    }

    [Fact]
    public void Pixel_norm_gives_unit_mean_square_per_pixel_and_minibatch_stddev_adds_one_map()
    {
        manual_seed(4);
        using var x = randn(4, 8, 5, 5).mul(7);
        using var normed = ProGanOps.PixelNorm(x);
        using var meanSquare = normed.square().mean([1]);
        Assert.True(allclose(meanSquare, ones_like(meanSquare), rtol: 1e-5, atol: 1e-5));

        using var withStd = ProGanOps.MinibatchStdDev(x);
        Assert.Equal(new long[] { 4, 9, 5, 5 }, withStd.shape);
        using var same = ProGanOps.MinibatchStdDev(x.narrow(0, 0, 1).expand(4, 8, 5, 5).contiguous());
        Assert.True(same.select(1, 8).abs().max().item<float>() < 1e-3, "identical samples must have ~0 standard deviation");
        Assert.True(withStd.select(1, 8).min().item<float>() > 1, "random samples scaled by 7 have a large standard deviation");
    }

    [Fact]
    public void Equalized_layers_keep_unit_variance_weights_and_scale_at_run_time()
    {
        manual_seed(5);
        using var conv = new EqualizedConv2d(64, 32, 3);
        var weight = conv.named_parameters().First(p => p.name == "weight").parameter;
        double std = weight.std().item<float>();
        Assert.InRange(std, 0.9, 1.1);
        // He scaling: with unit-variance inputs the output variance is about gain² = 2 (ReLU-family layers).
        using var x = randn(16, 64, 8, 8);
        using var y = conv.forward(x);
        Assert.InRange(y.var().item<float>(), 1.6, 2.4);

        // Both formulations (conv2d for input channels that are a multiple of 16, im2col + matmul otherwise, as the
        // critic's 65-channel last conv) are the convolution they stand for.
        var bias = conv.named_parameters().First(p => p.name == "bias").parameter;
        using var _ = no_grad();
        bias.uniform_(-1, 1);
        using var x65 = randn(16, 65, 8, 8);
        foreach (var (layer, input, k) in new[] { (conv, x, 3L), (new EqualizedConv2d(64, 5, 1), x, 1L), (new EqualizedConv2d(65, 8, 3), x65, 3L) })
        {
            var w = layer.named_parameters().First(p => p.name == "weight").parameter;
            var b = layer.named_parameters().First(p => p.name == "bias").parameter;
            // The reference in float64, which libtorch computes without oneDNN.
            using var expected = nn.functional.conv2d(input.to(float64), w.to(float64).mul(Math.Sqrt(2) / Math.Sqrt(input.shape[1] * k * k)), b.to(float64), padding: [k / 2, k / 2]);
            using var actual = layer.forward(input).to(float64);
            Assert.True(allclose(actual, expected, rtol: 1e-4, atol: 1e-5), $"{input.shape[1]}-channel {k}×{k} layer differs from conv2d");
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(256)]
    public void Wgan_gp_step_runs_at_the_final_resolution(int resolution)
    {
        manual_seed(6);
        var config = new ProGanConfig(FinalResolution: resolution, LatentDim: 32, FmapBase: 256, FmapMax: 32);
        using var g = new ProGanGenerator(config);
        using var d = new ProGanDiscriminator(config);
        using var scope = NewDisposeScope();
        var real = rand(4, 3, resolution, resolution).mul(2).sub(1);
        var fake = g.Forward(randn(4, config.LatentDim), config.MaxLevel, 0.7);
        var (loss, penalty) = ProGanLoss.Critic(x => d.Forward(x, config.MaxLevel, 0.7), real, fake.detach());
        loss.backward();
        Assert.True(double.IsFinite(loss.item<float>()) && double.IsFinite(penalty.item<float>()));
        // Every layer on the path of the last two levels gets a finite, non-zero gradient (fromRGB of lower levels is unused).
        bool OnPath(string name) => !name.StartsWith("from_rgb.") && !name.StartsWith("to_rgb.")
            || name.StartsWith($"from_rgb.{config.MaxLevel}.") || name.StartsWith($"from_rgb.{config.MaxLevel - 1}.")
            || name.StartsWith($"to_rgb.{config.MaxLevel}.") || name.StartsWith($"to_rgb.{config.MaxLevel - 1}.");
        foreach (var (name, p) in d.named_parameters().Where(p => OnPath(p.name)))
            Assert.True(p.grad is not null && isfinite(p.grad).all().item<bool>() && p.grad.abs().sum().item<float>() > 0, $"D {name}");
        var gLoss = ProGanLoss.Generator(d.Forward(fake, config.MaxLevel, 0.7));
        gLoss.backward();
        foreach (var (name, p) in g.named_parameters().Where(p => OnPath(p.name)))
            Assert.True(p.grad is not null && isfinite(p.grad).all().item<bool>() && p.grad.abs().sum().item<float>() > 0, $"G {name}");
    }
}
