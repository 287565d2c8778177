using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.Dcgan;

/// <summary>
/// DCGAN generator (pytorch/examples dcgan/main.py layout, key names <c>main.N.*</c>), class-conditional by
/// concatenating a one-hot label to z, as in the conditional GAN paper. With NumClasses = 0 it is exactly the reference.
/// </summary>
public sealed class Generator : Module<Tensor, Tensor?, Tensor>, IImageGenerator
{
    private readonly Sequential main;

    public DcganConfig Config { get; }

    public Generator(DcganConfig config) : base(nameof(Generator))
    {
        config.Validate();
        Config = config;
        var layers = new List<Module<Tensor, Tensor>>();
        int stages = config.Stages;
        long channels = config.Ngf * (1L << (stages - 1));
        // (nz + classes) × 1 × 1 → (ngf·2^(s-1)) × 4 × 4
        layers.Add(new Layers.LatentProjection(config.LatentDim + config.NumClasses, channels));
        layers.Add(BatchNorm2d(channels));
        layers.Add(ReLU());
        for (int i = 1; i < stages; i++)
        {
            // c × h × w → c/2 × 2h × 2w
            layers.Add(ConvTranspose2d(channels, channels / 2, 4, 2, 1, bias: false));
            layers.Add(BatchNorm2d(channels / 2));
            layers.Add(ReLU());
            channels /= 2;
        }
        // ngf × size/2 → channels × size × size, in [-1, 1]
        layers.Add(ConvTranspose2d(channels, config.Channels, 4, 2, 1, bias: false));
        layers.Add(Tanh());
        main = Sequential(layers);
        RegisterComponents();
    }

    /// <param name="z">[N, nz] latent vectors.</param>
    /// <param name="labels">[N] int64 class indices, or null for an unconditional model.</param>
    /// <returns>[N, C, size, size] images in [-1, 1].</returns>
    public override Tensor forward(Tensor z, Tensor? labels)
    {
        if (z.dim() != 2 || z.shape[1] != Config.LatentDim)
            throw new ArgumentException($"z must be [N, {Config.LatentDim}], got [{string.Join(", ", z.shape)}].");
        var input = z;
        if (Config.NumClasses > 0)
        {
            if (labels is null || labels.shape.Length != 1 || labels.shape[0] != z.shape[0])
                throw new ArgumentException("labels must be [N] for a conditional generator.");
            input = cat([z, functional.one_hot(labels, Config.NumClasses).to(z.dtype)], 1);
        }
        return main.forward(input.view(input.shape[0], input.shape[1], 1, 1));
    }

    int IImageGenerator.ImageSize => Config.ImageSize;
    int IImageGenerator.Channels => Config.Channels;
    int IImageGenerator.LatentDim => Config.LatentDim;
    int IImageGenerator.NumClasses => Config.NumClasses;
    Tensor IImageGenerator.Generate(Tensor z, Tensor? labels) => forward(z, labels);
}
