using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static GanService.Models.ProGan.ProGanOps;

namespace GanService.Models.ProGan;

/// <summary>One generator stage above 4×4: nearest ×2 upsampling, two 3×3 equalized convs with LReLU and pixel norm.</summary>
public sealed class GeneratorBlock : nn.Module<Tensor, Tensor>
{
    private readonly EqualizedConv2d conv1;
    private readonly EqualizedConv2d conv2;

    public GeneratorBlock(long inChannels, long outChannels) : base(nameof(GeneratorBlock))
    {
        conv1 = new EqualizedConv2d(inChannels, outChannels, 3);
        conv2 = new EqualizedConv2d(outChannels, outChannels, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = Upsample2x(x);
        y = PixelNorm(Lrelu(conv1.forward(y)));
        y = PixelNorm(Lrelu(conv2.forward(y)));
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Progressive GAN generator (Karras et al. 2017): z (normalised) → 4×4 by a dense layer and a 3×3 conv, then one
/// <see cref="GeneratorBlock"/> per doubling, and a 1×1 toRGB per level. At level L with fade-in α &lt; 1 the output is
/// lerp(upsampled toRGB_{L−1} of the previous stage, toRGB_L, α). Output is linear (not tanh): images in about [−1, 1].
/// In eval mode images are computed one at a time, so an image never depends on its batch.
/// Key names: <c>input.*</c>, <c>input_conv.*</c>, <c>blocks.{L−1}.conv{1,2}.*</c>, <c>to_rgb.{L}.*</c>.
/// </summary>
public sealed class ProGanGenerator : nn.Module<Tensor, Tensor>, IImageGenerator
{
    private readonly EqualizedLinear input;
    private readonly EqualizedConv2d input_conv;
    private readonly ModuleList<GeneratorBlock> blocks = new();
    private readonly ModuleList<EqualizedConv2d> to_rgb = new();

    public ProGanConfig Config { get; }

    public ProGanGenerator(ProGanConfig config) : base(nameof(ProGanGenerator))
    {
        config.Validate();
        Config = config;
        long c0 = config.FeatureMaps(0);
        // The paper's 4×4 "conv" from a 1×1 latent is a dense layer; gain √2/4 as in the official code.
        input = new EqualizedLinear(config.LatentDim, c0 * 16, gain: Math.Sqrt(2) / 4, perSample: true);
        input_conv = new EqualizedConv2d(c0, c0, 3);
        to_rgb.Add(new EqualizedConv2d(c0, config.Channels, 1, gain: 1));
        for (int level = 1; level <= config.MaxLevel; level++)
        {
            blocks.Add(new GeneratorBlock(config.FeatureMaps(level - 1), config.FeatureMaps(level)));
            to_rgb.Add(new EqualizedConv2d(config.FeatureMaps(level), config.Channels, 1, gain: 1));
        }
        RegisterComponents();
    }

    /// <summary>The full-resolution image (last level, no fade).</summary>
    public override Tensor forward(Tensor z) => Forward(z, Config.MaxLevel, 1.0);

    /// <param name="z">[N, LatentDim].</param>
    /// <param name="level">0 (4×4) … MaxLevel.</param>
    /// <param name="alpha">Fade-in of the newest level, in [0, 1].</param>
    /// <returns>[N, Channels, 4·2^level, 4·2^level].</returns>
    public Tensor Forward(Tensor z, int level, double alpha) => Forward(z, level, alpha, batched: training);

    /// <summary>
    /// The final-resolution images of a whole batch in one pass, in any mode: for evaluation, where thousands of
    /// images are drawn and a ~1e-6 dependence on the batch does not matter. Serving uses <see cref="forward"/>.
    /// </summary>
    public Tensor ForwardBatched(Tensor z) => ForwardBatched(z, Config.MaxLevel, 1.0);

    /// <summary>As <see cref="ForwardBatched(Tensor)"/>, at <paramref name="level"/> and fade-in <paramref name="alpha"/>.</summary>
    public Tensor ForwardBatched(Tensor z, int level, double alpha) => Forward(z, level, alpha, batched: true);

    private Tensor Forward(Tensor z, int level, double alpha, bool batched)
    {
        if (level < 0 || level > Config.MaxLevel) throw new ArgumentOutOfRangeException(nameof(level), $"level must be 0..{Config.MaxLevel}.");
        if (z.dim() != 2 || z.shape[1] != Config.LatentDim) throw new ArgumentException($"z must be [N, {Config.LatentDim}].");
        if (!batched && z.shape[0] > 1) return PerSample(z, level, alpha);
        using var scope = NewDisposeScope();
        long c0 = Config.FeatureMaps(0);
        var x = PixelNorm(z.view(z.shape[0], Config.LatentDim, 1, 1)).view(z.shape[0], Config.LatentDim);
        x = PixelNorm(Lrelu(input.forward(x)).view(z.shape[0], c0, 4, 4));
        x = PixelNorm(Lrelu(input_conv.forward(x)));
        Tensor? previous = null;
        for (int l = 1; l <= level; l++)
        {
            previous = x;
            x = blocks[l - 1].forward(x);
        }
        var rgb = to_rgb[level].forward(x);
        if (level > 0 && alpha < 1.0)
        {
            var old = Upsample2x(to_rgb[level - 1].forward(previous!));
            rgb = old.lerp(rgb, alpha);
        }
        return rgb.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// In eval mode every image is computed on its own: libtorch's CPU Conv2d picks its algorithm by batch size
    /// (outputs differed by ~2e-6 between batch 1 and 8 here), and an image must not depend on the batch it is in.
    /// </summary>
    private Tensor PerSample(Tensor z, int level, double alpha)
    {
        var images = new Tensor[z.shape[0]];
        try
        {
            for (long n = 0; n < images.Length; n++)
            {
                using var row = z.narrow(0, n, 1);
                images[n] = Forward(row, level, alpha);
            }
            return cat(images, 0);
        }
        finally
        {
            foreach (var image in images) image?.Dispose();
        }
    }

    int IImageGenerator.ImageSize => Config.FinalResolution;
    int IImageGenerator.Channels => Config.Channels;
    int IImageGenerator.LatentDim => Config.LatentDim;
    int IImageGenerator.NumClasses => 0;
    /// <summary>Unconditional: labels must be null. The output is linear; the sampler clamps it when it quantises.</summary>
    Tensor IImageGenerator.Generate(Tensor z, Tensor? labels) =>
        labels is null ? forward(z) : throw new ArgumentException("a ProGAN generator is unconditional: no labels.");
}
