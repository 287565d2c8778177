using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.VideoGan;

/// <summary>
/// VGAN's discriminator: 3D convs (4×4×4, stride 2) over the whole clip, doubling channels as time and space halve, no
/// BatchNorm on the first layer, LeakyReLU 0.2, down to (Frames/2^stages)×4×4, then (with
/// <see cref="VideoGanConfig.MinibatchStddev"/>) one more feature map holding the features' spread across the batch,
/// then one logit (Flatten + Linear, see <see cref="Dcgan.Discriminator"/> for why not a final conv).
/// </summary>
public sealed class VideoGanDiscriminator : Module<Tensor, Tensor>
{
    private readonly Sequential main;
    private readonly Linear adv;

    public VideoGanConfig Config { get; }

    public VideoGanDiscriminator(VideoGanConfig config) : base(nameof(VideoGanDiscriminator))
    {
        config.Validate();
        Config = config;
        var layers = new List<Module<Tensor, Tensor>> { Conv3d(3, config.Ndf, 4, 2, 1), LeakyReLU(0.2) };
        long c = config.Ndf;
        for (int i = 1; i < config.Stages; i++, c *= 2)
            layers.AddRange([Conv3d(c, c * 2, 4, 2, 1, bias: false), BatchNorm3d(c * 2), LeakyReLU(0.2)]);
        main = Sequential(layers);
        adv = Linear((c + (config.MinibatchStddev ? 1 : 0)) * config.FirstFrames * 16, 1);
        RegisterComponents();
        Layers.Init.Dcgan(this);
    }

    /// <param name="video">[N, 3, Frames, ImageSize, ImageSize] in [−1, 1].</param>
    /// <returns>[N] logits (real &gt; 0).</returns>
    public override Tensor forward(Tensor video)
    {
        if (video.dim() != 5 || video.shape[1] != 3 || video.shape[2] != Config.Frames || video.shape[3] != Config.ImageSize || video.shape[4] != Config.ImageSize)
            throw new ArgumentException($"video must be [N, 3, {Config.Frames}, {Config.ImageSize}, {Config.ImageSize}], got [{string.Join(", ", video.shape)}].");
        using var scope = NewDisposeScope();
        var features = main.forward(video);
        if (Config.MinibatchStddev)
        {
            // One extra feature map: the standard deviation of each feature across the batch, averaged.
            var spread = features.sub(features.mean([0], keepdim: true)).pow(2).mean([0]).add(1e-8).sqrt().mean();
            features = cat([features, spread.expand(features.shape[0], 1, features.shape[2], features.shape[3], features.shape[4])], 1);
        }
        return adv.forward(features.flatten(1)).view(-1).MoveToOuterDisposeScope();
    }
}
