using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.Dcgan;

/// <summary>
/// DCGAN discriminator returning logits (the Sigmoid lives in the loss, for numerical stability).
/// Conditional models see the label as one-hot planes concatenated to the image channels.
/// </summary>
public sealed class Discriminator : Module<Tensor, Tensor?, Tensor>
{
    private readonly Sequential main;

    public DcganConfig Config { get; }

    public Discriminator(DcganConfig config) : base(nameof(Discriminator))
    {
        config.Validate();
        Config = config;
        var layers = new List<Module<Tensor, Tensor>>();
        long channels = config.Ndf;
        // (C + classes) × size → ndf × size/2; no BatchNorm on the first layer (DCGAN paper)
        layers.Add(Conv2d(config.Channels + config.NumClasses, channels, 4, 2, 1, bias: false));
        layers.Add(LeakyReLU(0.2));
        for (int i = 1; i < config.Stages; i++)
        {
            layers.Add(Conv2d(channels, channels * 2, 4, 2, 1, bias: false));
            layers.Add(BatchNorm2d(channels * 2));
            layers.Add(LeakyReLU(0.2));
            channels *= 2;
        }
        // c × 4 × 4 → 1 logit. The reference uses Conv2d(c, 1, 4); libtorch 2.10's CPU backward of that
        // one-output-channel conv returned NaN input gradients here (autograd anomaly mode pinned it), so the same
        // linear map is written as Flatten + Linear.
        layers.Add(Flatten());
        layers.Add(Linear(channels * 16, 1, hasBias: false));
        main = Sequential(layers);
        RegisterComponents();
    }

    /// <param name="images">[N, C, size, size] in [-1, 1].</param>
    /// <param name="labels">[N] int64 class indices, or null for an unconditional model.</param>
    /// <returns>[N] logits (real &gt; 0).</returns>
    public override Tensor forward(Tensor images, Tensor? labels)
    {
        long size = Config.ImageSize;
        if (images.dim() != 4 || images.shape[1] != Config.Channels || images.shape[2] != size || images.shape[3] != size)
            throw new ArgumentException($"images must be [N, {Config.Channels}, {size}, {size}], got [{string.Join(", ", images.shape)}].");
        var input = images;
        if (Config.NumClasses > 0)
        {
            if (labels is null) throw new ArgumentException("labels are required for a conditional discriminator.");
            var planes = functional.one_hot(labels, Config.NumClasses).to(images.dtype)
                .view(images.shape[0], Config.NumClasses, 1, 1)
                .expand(images.shape[0], Config.NumClasses, size, size);
            input = cat([images, planes], 1);
        }
        return main.forward(input).view(-1);
    }
}
