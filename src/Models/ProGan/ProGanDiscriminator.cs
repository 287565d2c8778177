using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static GanService.Models.ProGan.ProGanOps;

namespace GanService.Models.ProGan;

/// <summary>One discriminator stage: two 3×3 equalized convs with LReLU, then 2×2 average pooling.</summary>
public sealed class DiscriminatorBlock : nn.Module<Tensor, Tensor>
{
    private readonly EqualizedConv2d conv1;
    private readonly EqualizedConv2d conv2;

    public DiscriminatorBlock(long inChannels, long outChannels) : base(nameof(DiscriminatorBlock))
    {
        conv1 = new EqualizedConv2d(inChannels, inChannels, 3);
        conv2 = new EqualizedConv2d(inChannels, outChannels, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = Lrelu(conv1.forward(x));
        y = Lrelu(conv2.forward(y));
        return Downsample2x(y).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Progressive GAN critic: 1×1 fromRGB per level, one <see cref="DiscriminatorBlock"/> per halving, and at 4×4 the
/// minibatch standard deviation map, a 3×3 conv, a dense layer over the 4×4 map and a linear output (WGAN critic:
/// no sigmoid). With fade-in α &lt; 1 the newest level's features are lerped with fromRGB_{L−1} of the downsampled image.
/// Key names: <c>from_rgb.{L}.*</c>, <c>blocks.{L−1}.conv{1,2}.*</c>, <c>final_conv.*</c>, <c>final_dense.*</c>, <c>output.*</c>.
/// </summary>
public sealed class ProGanDiscriminator : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<EqualizedConv2d> from_rgb = new();
    private readonly ModuleList<DiscriminatorBlock> blocks = new();
    private readonly EqualizedConv2d final_conv;
    private readonly EqualizedLinear final_dense;
    private readonly EqualizedLinear output;

    public ProGanConfig Config { get; }

    public ProGanDiscriminator(ProGanConfig config) : base(nameof(ProGanDiscriminator))
    {
        config.Validate();
        Config = config;
        long c0 = config.FeatureMaps(0);
        for (int level = 0; level <= config.MaxLevel; level++)
            from_rgb.Add(new EqualizedConv2d(config.Channels, config.FeatureMaps(level), 1));
        for (int level = 1; level <= config.MaxLevel; level++)
            blocks.Add(new DiscriminatorBlock(config.FeatureMaps(level), config.FeatureMaps(level - 1)));
        final_conv = new EqualizedConv2d(c0 + 1, c0, 3);
        final_dense = new EqualizedLinear(c0 * 16, c0);
        output = new EqualizedLinear(c0, 1, gain: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor images) => Forward(images, Config.MaxLevel, 1.0);

    /// <param name="images">[N, Channels, 4·2^level, 4·2^level].</param>
    /// <returns>[N] critic scores.</returns>
    public Tensor Forward(Tensor images, int level, double alpha)
    {
        if (level < 0 || level > Config.MaxLevel) throw new ArgumentOutOfRangeException(nameof(level), $"level must be 0..{Config.MaxLevel}.");
        long size = ProGanConfig.Resolution(level);
        if (images.dim() != 4 || images.shape[1] != Config.Channels || images.shape[2] != size || images.shape[3] != size)
            throw new ArgumentException($"images must be [N, {Config.Channels}, {size}, {size}] at level {level}, got [{string.Join(", ", images.shape)}].");
        using var scope = NewDisposeScope();
        var x = Lrelu(from_rgb[level].forward(images));
        if (level > 0)
        {
            x = blocks[level - 1].forward(x);
            if (alpha < 1.0)
            {
                var old = Lrelu(from_rgb[level - 1].forward(Downsample2x(images)));
                x = old.lerp(x, alpha);
            }
            for (int l = level - 1; l >= 1; l--) x = blocks[l - 1].forward(x);
        }
        x = MinibatchStdDev(x);
        x = Lrelu(final_conv.forward(x));
        x = Lrelu(final_dense.forward(x.flatten(1)));
        return output.forward(x).view(-1).MoveToOuterDisposeScope();
    }
}
