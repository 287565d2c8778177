using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.Caae;

/// <summary>D_z: tells encoded identities from draws of the uniform prior on [−1, 1]^ZDim, which pushes E's codes to
/// fill the prior smoothly (so any z in it decodes to a plausible face). Returns logits.</summary>
public sealed class CaaeDz : Module<Tensor, Tensor>
{
    private readonly Sequential main;

    public CaaeDz(CaaeConfig config) : base(nameof(CaaeDz))
    {
        config.Validate();
        // ZDim → 64 → 32 → 16 → 1, BatchNorm and ReLU between (the paper's D_z)
        main = Sequential(
            Linear(config.ZDim, 64), BatchNorm1d(64), ReLU(),
            Linear(64, 32), BatchNorm1d(32), ReLU(),
            Linear(32, 16), BatchNorm1d(16), ReLU(),
            Linear(16, 1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor z) => main.forward(z);
}

/// <summary>D_img: judges (face, label) pairs, so G must draw the age and gender it is given. A 5×5 stride-2
/// convolution, the label tiled as planes beside its output, three more with BatchNorm and LeakyReLU, two linear
/// layers. Returns logits.</summary>
public sealed class CaaeDimg : Module<Tensor, Tensor, Tensor>
{
    private readonly Conv2d conv0;
    private readonly Sequential main;
    private readonly Sequential head;
    private readonly long padding;

    public CaaeConfig Config { get; }

    public CaaeDimg(CaaeConfig config) : base(nameof(CaaeDimg))
    {
        config.Validate();
        Config = config;
        long b = config.DiscriminatorChannels;
        conv0 = Conv2d(3, b, 5, 2, 2);
        // libtorch 2.10's CPU convolution backward gave NaN gradients with input channels that are not a multiple of
        // 16 (README, Notes for developers; here B + L = 44 failed by the third step), so the label planes are padded
        // with zero planes up to one.
        padding = (16 - (b + config.LabelDim) % 16) % 16;
        // (B + L + pad) × R/2 → 2B × R/4 → 4B × R/8 → 8B × R/16
        main = Sequential(
            Conv2d(b + config.LabelDim + padding, 2 * b, 5, 2, 2), BatchNorm2d(2 * b), LeakyReLU(0.2),
            Conv2d(2 * b, 4 * b, 5, 2, 2), BatchNorm2d(4 * b), LeakyReLU(0.2),
            Conv2d(4 * b, 8 * b, 5, 2, 2), BatchNorm2d(8 * b), LeakyReLU(0.2));
        long side = config.Resolution / 16;
        head = Sequential(Flatten(), Linear(8 * b * side * side, 1024), LeakyReLU(0.2), Linear(1024, 1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor image, Tensor label)
    {
        using var scope = NewDisposeScope();
        var x = functional.relu(conv0.forward(image));
        var planes = label.view(label.shape[0], label.shape[1], 1, 1).expand(-1, -1, x.shape[2], x.shape[3]);
        var parts = padding == 0 ? new[] { x, planes } : [x, planes, zeros([x.shape[0], padding, x.shape[2], x.shape[3]], x.dtype, x.device)];
        var features = main.forward(cat(parts, 1));
        return head.forward(features).MoveToOuterDisposeScope();
    }
}
