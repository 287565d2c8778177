using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.Text;

/// <summary>Sizes of the text encoder and its matching image encoder.</summary>
/// <param name="VocabSize">Token indices, <see cref="CaptionTokenizer.Size"/>.</param>
/// <param name="MaxTokens">Indices per text.</param>
/// <param name="EmbedDim">Token embedding width.</param>
/// <param name="Hidden">Channels of the two token convolutions.</param>
/// <param name="TextDim">The text embedding's width: what StackGAN's conditioning augmentation reads.</param>
/// <param name="ImageSize">Side of the images the image encoder reads (64: Stage-I's resolution).</param>
public sealed record TextEncoderConfig(int VocabSize, int MaxTokens = 24, int EmbedDim = 96, int Hidden = 192, int TextDim = 128, int ImageSize = 64)
{
    public void Validate()
    {
        if (VocabSize < 3) throw new ArgumentException($"the vocabulary needs at least one piece besides pad and unknown, got {VocabSize}.");
        if (MaxTokens is < 1 or > 256) throw new ArgumentException($"max tokens must be 1..256, got {MaxTokens}.");
        if (EmbedDim < 1 || Hidden < 1 || TextDim < 1) throw new ArgumentException("widths must be positive.");
        if (ImageSize is not (32 or 64 or 128)) throw new ArgumentException($"image size must be 32, 64 or 128, got {ImageSize}.");
    }
}

/// <summary>
/// The text encoder: token embeddings → two 1-D convolutions over the sequence (width 3, GELU) → mean and max over the
/// real tokens (padding masked) → a linear map to <see cref="TextEncoderConfig.TextDim"/>. Small enough to train on
/// a CPU in minutes; it stands where the paper's pretrained char-CNN-RNN stood.
/// </summary>
public sealed class TextEncoder : Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly Conv1d conv1, conv2;
    private readonly Linear proj;

    public TextEncoderConfig Config { get; }

    public TextEncoder(TextEncoderConfig config) : base(nameof(TextEncoder))
    {
        config.Validate();
        Config = config;
        embed = Embedding(config.VocabSize, config.EmbedDim, padding_idx: CaptionTokenizer.Pad);
        conv1 = Conv1d(config.EmbedDim, config.Hidden, 3, padding: 1);
        conv2 = Conv1d(config.Hidden, config.Hidden, 3, padding: 1);
        proj = Linear(2 * config.Hidden, config.TextDim);
        RegisterComponents();
    }

    /// <param name="tokens">[N, MaxTokens] int64 indices.</param>
    /// <returns>[N, TextDim] text embeddings (not normalised).</returns>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var mask = tokens.ne(CaptionTokenizer.Pad).unsqueeze(1).to(ScalarType.Float32);        // [N, 1, T]
        var x = embed.forward(tokens).transpose(1, 2);                                           // [N, E, T]
        x = functional.gelu(conv1.forward(x));
        x = functional.gelu(conv2.forward(x)).mul(mask);
        var count = mask.sum([2L]).clamp_min(1.0);                                                // [N, 1]
        var mean = x.sum([2L]).div(count);
        // Max over real tokens only: padded positions are pushed below every real value.
        var max = x.add(mask.sub(1.0).mul(1e4)).amax([2L]);
        return proj.forward(cat([mean, max], 1)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The image side of the matching objective: four strided conv blocks (BatchNorm, LeakyReLU) over 64×64 RGB, then a
/// linear map to the text embedding's width. Used to train the text encoder, and later to score generated images
/// against captions (retrieval precision).
/// </summary>
public sealed class MatchImageEncoder : Module<Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Linear proj;

    public MatchImageEncoder(TextEncoderConfig config, int width = 32) : base(nameof(MatchImageEncoder))
    {
        config.Validate();
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        long channels = 3;
        int size = config.ImageSize, i = 0;
        while (size > 4)
        {
            long next = Math.Min(width << i, 256);
            layers.Add(($"conv{i}", Conv2d(channels, next, 4, stride: 2, padding: 1, bias: false)));
            layers.Add(($"bn{i}", BatchNorm2d(next)));
            layers.Add(($"act{i}", LeakyReLU(0.2)));
            channels = next;
            size /= 2;
            i++;
        }
        body = Sequential(layers);
        proj = Linear(channels * 4 * 4, config.TextDim);
        RegisterComponents();
    }

    /// <param name="images">[N, 3, ImageSize, ImageSize] in [−1, 1].</param>
    public override Tensor forward(Tensor images) => proj.forward(body.forward(images).flatten(1));
}

/// <summary>Text and image encoders trained together with a symmetric contrastive (InfoNCE) loss: in a batch of
/// (image, caption) pairs each caption must pick its own image among the batch's images, and each image its caption.</summary>
public sealed class CaptionMatcher : Module<Tensor, Tensor, Tensor>
{
    public TextEncoder Text { get; }
    public MatchImageEncoder Image { get; }
    private readonly Parameter logitScale;

    public CaptionMatcher(TextEncoderConfig config) : base(nameof(CaptionMatcher))
    {
        Text = new TextEncoder(config);
        Image = new MatchImageEncoder(config);
        // CLIP's initial temperature, 0.07, learned from there.
        logitScale = Parameter(tensor(Math.Log(1 / 0.07), dtype: ScalarType.Float32));
        register_module("text", Text);
        register_module("image", Image);
        register_parameter("logit_scale", logitScale);
    }

    /// <summary>Unit-length embeddings: the similarity of a caption and an image is their dot product.</summary>
    public Tensor EmbedText(Tensor tokens) => functional.normalize(Text.forward(tokens), dim: 1);

    public Tensor EmbedImages(Tensor images) => functional.normalize(Image.forward(images), dim: 1);

    /// <returns>The symmetric InfoNCE loss (scalar) of a batch whose i-th caption belongs to its i-th image.</returns>
    public override Tensor forward(Tensor tokens, Tensor images)
    {
        using var scope = NewDisposeScope();
        var t = EmbedText(tokens);
        var v = EmbedImages(images);
        var logits = t.matmul(v.t()).mul(logitScale.clamp_max(Math.Log(100)).exp());
        var target = arange(t.shape[0], dtype: ScalarType.Int64, device: t.device);
        var loss = functional.cross_entropy(logits, target).add(functional.cross_entropy(logits.t(), target)).div(2);
        return loss.MoveToOuterDisposeScope();
    }
}
