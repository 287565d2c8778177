using GanService.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.StackGan;

/// <summary>
/// Both stages' matching-aware discriminator: the image → strided 4×4 convs (LeakyReLU 0.2, BatchNorm after the first,
/// channels doubling from Ndf up to 8·Ndf) down to 4×4; the text embedding compressed to CondDim and replicated over
/// the 4×4 grid is joined to it; a 1×1 conv mixes them and a 4×4 conv gives one logit: "is this a real image matching
/// this text?". At 64 px that is the paper's Stage-I discriminator (four convs, Ndf → 8·Ndf); at 256, Stage-II's.
/// </summary>
public sealed class MatchingAwareDiscriminator : Module<Tensor, Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Linear compress;
    private readonly StableConv2d joint;
    private readonly BatchNorm2d jointNorm;
    private readonly StableConv2d logit;
    private readonly int condDim;

    public MatchingAwareDiscriminator(StageOneConfig config) : this(StageOneConfig.ImageSize, config.Ndf, config.TextDim, config.CondDim)
    {
        config.Validate();
    }

    public MatchingAwareDiscriminator(StageTwoConfig config) : this(config.ImageSize, config.Ndf, config.TextDim, config.CondDim)
    {
        config.Validate();
    }

    private MatchingAwareDiscriminator(int imageSize, long d, int textDim, int condDim) : base(nameof(MatchingAwareDiscriminator))
    {
        this.condDim = condDim;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        long channels = 3;
        int size = imageSize, i = 0;
        while (size > 4)
        {
            long next = Math.Min(d << i, 8 * d);
            layers.Add(($"conv{i}", new StableConv2d(channels, next, 4, stride: 2, padding: 1, bias: false)));
            if (i > 0) layers.Add(($"bn{i}", BatchNorm2d(next)));
            layers.Add(($"act{i}", LeakyReLU(0.2)));
            channels = next;
            size /= 2;
            i++;
        }
        body = Sequential(layers);
        compress = Linear(textDim, condDim);
        joint = new StableConv2d(channels + condDim, 8 * d, 1, bias: false);
        jointNorm = BatchNorm2d(8 * d);
        logit = new StableConv2d(8 * d, 1, 4);
        RegisterComponents();
    }

    /// <returns>[N] logits.</returns>
    public override Tensor forward(Tensor images, Tensor text)
    {
        var h = body.forward(images);
        var t = functional.leaky_relu(compress.forward(text), 0.2).view(-1, condDim, 1, 1).expand(-1, -1, 4, 4);
        h = functional.leaky_relu(jointNorm.forward(joint.forward(cat([h, t], 1))), 0.2);
        return logit.forward(h).view(-1);
    }
}
