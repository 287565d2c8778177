using GanService.Models.Dcgan;
using GanService.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using Generator = GanService.Models.Dcgan.Generator;

namespace GanService.Models.Tests;

public sealed class GeneratorTests
{
    static readonly long[] Seeds = [11, 12, 13, 14, 15, 16, 17, 18];
    static readonly long[] BatchLabels = [0, 1, 2, 3, 4, 5, 6, 7];

    public GeneratorTests() => set_num_threads(1);

    static Generator NewGenerator(long seed = 7)
    {
        manual_seed(seed);
        var g = new Generator(DcganConfig.Fashion32);
        Init.Dcgan(g);
        g.eval();
        return g;
    }

    static Tensor Generate(Generator g, long[] seeds, long[] labels)
    {
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        return g.forward(Latents.ForSeeds(seeds, g.Config.LatentDim), tensor(labels)).MoveToOuterDisposeScope();
    }

    [Fact]
    public void Generator_output_has_expected_shape_and_range()
    {
        using var g = NewGenerator();
        using var images = Generate(g, Seeds, BatchLabels);

        Assert.Equal([8L, 1, 32, 32], images.shape);
        Assert.Equal(ScalarType.Float32, images.dtype);
        Assert.True(images.min().item<float>() >= -1f && images.max().item<float>() <= 1f);
        Assert.True(images.std().item<float>() > 0f, "a fresh generator should not output a constant image");
    }

    [Fact]
    public void Generator_float32_output_matches_float64_reference()
    {
        // libtorch 2.10's oneDNN (3.7.1, jit avx512_core/avx2 deconvolution) computes ConvTranspose2d on a 1×1 input
        // wrongly when its input channels are not a multiple of 16 (here 100 + 10 = 110): output positions pick up
        // uninitialised memory, finite or NaN. float64 takes libtorch's own kernels, so it is the reference.
        using var g = NewGenerator();
        using var g64 = NewGenerator();
        g64.to(ScalarType.Float64);
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        var z = Latents.ForSeeds(Seeds, 100);
        var labels = tensor(BatchLabels);

        var error = (g.forward(z, labels).to(ScalarType.Float64) - g64.forward(z.to(ScalarType.Float64), labels)).abs().max().item<double>();

        Assert.True(error < 1e-4, $"max |float32 − float64| = {error:E2} (NaN means a NaN pixel)");
    }

    [Fact]
    public void Same_seed_gives_identical_latents_and_images()
    {
        using var g = NewGenerator();
        using var z1 = Latents.ForSeeds(Seeds, 100);
        using var z2 = Latents.ForSeeds(Seeds, 100);
        using var images1 = Generate(g, Seeds, BatchLabels);
        using var images2 = Generate(g, Seeds, BatchLabels);
        using var otherSeed = Latents.ForSeeds([99], 100);

        Assert.True(Bitwise.Equal(z1, z2));
        Assert.True(Bitwise.Equal(images1, images2));
        Assert.False(Bitwise.Equal(otherSeed, z1.narrow(0, 0, 1)));
    }

    // Holds because each latent comes from its own seed and eval() BatchNorm uses running statistics; libtorch's CPU
    // kernels here also keep every sample's arithmetic independent of the batch size, at 1 and at 2 threads.
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Image_is_identical_alone_or_in_a_batch(int threads)
    {
        set_num_threads(threads);
        using var g = NewGenerator();
        using var batch = Generate(g, Seeds, BatchLabels);

        for (int i = 0; i < Seeds.Length; i++)
        {
            using var alone = Generate(g, [Seeds[i]], [BatchLabels[i]]);
            using var inBatch = batch.narrow(0, i, 1);
            Assert.True(Bitwise.Equal(alone, inBatch),
                $"seed {Seeds[i]}: max |alone − batched| = {(alone - inBatch).abs().max().item<float>():E3}");
        }
    }
}
