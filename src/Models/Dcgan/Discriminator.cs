using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.Dcgan;

/// <summary>How a class-conditional discriminator is told about the label.</summary>
public enum DiscriminatorConditioning
{
    /// <summary>One-hot planes concatenated to the image channels (conditional GAN paper); D judges (image, label) pairs.</summary>
    LabelPlanes,

    /// <summary>
    /// AC-GAN: D sees the image alone and has a second head that predicts the class; G is also trained to make
    /// that head name the requested label.
    /// </summary>
    AuxClassifier,
}

/// <summary>
/// DCGAN discriminator returning logits (the Sigmoid lives in the loss, for numerical stability).
/// Key names: the convolutional trunk is <c>main.N.*</c>, the real/fake head <c>adv.weight</c>, the class head
/// (AuxClassifier only) <c>cls.*</c>.
/// </summary>
public sealed class Discriminator : Module<Tensor, Tensor?, Tensor>
{
    private readonly Sequential main;
    private readonly Linear adv;
    private readonly Linear? cls;

    public DcganConfig Config { get; }

    public DiscriminatorConditioning Conditioning { get; }

    public Discriminator(DcganConfig config, DiscriminatorConditioning conditioning = DiscriminatorConditioning.LabelPlanes)
        : base(nameof(Discriminator))
    {
        config.Validate();
        if (conditioning == DiscriminatorConditioning.AuxClassifier && config.NumClasses < 2)
            throw new ArgumentException("an auxiliary classifier needs a conditional config (NumClasses ≥ 2).");
        Config = config;
        Conditioning = conditioning;
        var layers = new List<Module<Tensor, Tensor>>();
        long channels = config.Ndf;
        long inputChannels = config.Channels + (conditioning == DiscriminatorConditioning.LabelPlanes ? config.NumClasses : 0);
        // input × size → ndf × size/2; no BatchNorm on the first layer (DCGAN paper)
        layers.Add(Conv2d(inputChannels, channels, 4, 2, 1, bias: false));
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
        main = Sequential(layers);
        adv = Linear(channels * 16, 1, hasBias: false);
        if (conditioning == DiscriminatorConditioning.AuxClassifier)
            cls = Linear(channels * 16, config.NumClasses);
        RegisterComponents();
    }

    /// <param name="images">[N, C, size, size] in [-1, 1].</param>
    /// <param name="labels">[N] int64 class indices (required with LabelPlanes on a conditional model, ignored otherwise).</param>
    /// <returns>[N] logits (real &gt; 0).</returns>
    public override Tensor forward(Tensor images, Tensor? labels) => Heads(images, labels).Adversarial;

    /// <summary>Both heads: the real/fake logits [N] and, with an auxiliary classifier, the class logits [N, K].</summary>
    public (Tensor Adversarial, Tensor? ClassLogits) Heads(Tensor images, Tensor? labels)
    {
        long size = Config.ImageSize;
        if (images.dim() != 4 || images.shape[1] != Config.Channels || images.shape[2] != size || images.shape[3] != size)
            throw new ArgumentException($"images must be [N, {Config.Channels}, {size}, {size}], got [{string.Join(", ", images.shape)}].");
        var input = images;
        if (Config.NumClasses > 0 && Conditioning == DiscriminatorConditioning.LabelPlanes)
        {
            if (labels is null) throw new ArgumentException("labels are required for a label-plane conditional discriminator.");
            var planes = functional.one_hot(labels, Config.NumClasses).to(images.dtype)
                .view(images.shape[0], Config.NumClasses, 1, 1)
                .expand(images.shape[0], Config.NumClasses, size, size);
            input = cat([images, planes], 1);
        }
        var features = main.forward(input);
        return (adv.forward(features).view(-1), cls?.forward(features));
    }
}
