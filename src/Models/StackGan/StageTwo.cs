using GanService.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.StackGan;

/// <summary>Stage-II sizes (the paper: 256 px, Ngf 128 so a 16×16×512 joint map, four residual blocks, Ndf 64).</summary>
/// <param name="TextDim">Width of the text embedding read (the caption encoder's output).</param>
/// <param name="CondDim">Width of Stage-II's own conditioning vector.</param>
/// <param name="ImageSize">Output side: 128 (three ×2 upsamplings from the 16×16 joint map) or 256 (four).</param>
/// <param name="Ngf">G's first encoder block's channels; the 16×16 joint map has 4·Ngf.</param>
/// <param name="Ndf">D's first block's channels; its 4×4 map has 8·Ndf.</param>
/// <param name="ResidualBlocks">Residual blocks on the joint map.</param>
public sealed record StageTwoConfig(int TextDim = 128, int CondDim = 128, int ImageSize = 256, int Ngf = 48, int Ndf = 32, int ResidualBlocks = 2)
{
    public const int InputSize = StageOneConfig.ImageSize;

    public static StageTwoConfig Paper { get; } = new(TextDim: 1024, CondDim: 128, ImageSize: 256, Ngf: 128, Ndf: 64, ResidualBlocks: 4);

    public void Validate()
    {
        if (TextDim < 1 || CondDim < 1) throw new ArgumentException("text and condition widths must be positive.");
        if (ImageSize is not (128 or 256)) throw new ArgumentException($"Stage-II image size must be 128 or 256, got {ImageSize}.");
        if (Ngf is < 4 or > 512 || Ndf is < 4 or > 512) throw new ArgumentException($"ngf and ndf must be 4..512, got {Ngf} and {Ndf}.");
        if (ResidualBlocks is < 0 or > 8) throw new ArgumentException($"residual blocks must be 0..8, got {ResidualBlocks}.");
    }

    /// <summary>×2 upsamplings from the 16×16 joint map to the output.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int Upsamplings => ImageSize == 256 ? 4 : 3;
}

/// <summary>conv 3×3 → BatchNorm → ReLU → conv 3×3 → BatchNorm, added to the input, then ReLU (the paper's block).</summary>
internal sealed class ResidualBlock : Module<Tensor, Tensor>
{
    private readonly Sequential body;

    public ResidualBlock(long channels) : base(nameof(ResidualBlock))
    {
        body = Sequential(
            ("conv0", new StableConv2d(channels, channels, 3, padding: 1, bias: false)), ("bn0", BatchNorm2d(channels)), ("relu", ReLU()),
            ("conv1", new StableConv2d(channels, channels, 3, padding: 1, bias: false)), ("bn1", BatchNorm2d(channels)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => functional.relu(body.forward(x).add(x));
}

/// <summary>
/// Stage-II generator: the Stage-I 64×64 image is encoded down to 16×16×4·Ngf (conv 3×3, then two strided 4×4
/// convs); Stage-II's own conditioning augmentation draws c from the text, replicated over the grid and joined to it;
/// a 3×3 conv mixes them, residual blocks refine, and (nearest ×2, conv 3×3, BatchNorm, ReLU) blocks bring it to 128
/// or 256 px → conv 3×3. Stage-II sees the text again, so it can restore what Stage-I missed.
/// Unlike the paper, that last conv is a correction to the Stage-I image enlarged (bilinear), added before tanh:
/// image = tanh(atanh(enlarged) + conv). Our first Stage-II run, the paper's way (tanh of the conv alone), drew noise
/// after 7,600 GPU steps; this way a new Stage-II starts from the enlarged Stage-I image and learns the detail.
/// </summary>
public sealed class StageTwoGenerator : Module<Tensor, Tensor, (Tensor Image, Tensor Mu, Tensor LogVar)>
{
    private readonly ConditioningAugmentation ca;
    private readonly Sequential encode, joint, residual, up;
    private readonly StableConv2d toRgb;

    public StageTwoConfig Config { get; }

    public StageTwoGenerator(StageTwoConfig config) : base(nameof(StageTwoGenerator))
    {
        config.Validate();
        Config = config;
        ca = new ConditioningAugmentation(config.TextDim, config.CondDim);
        long g = config.Ngf;
        encode = Sequential(
            ("conv0", new StableConv2d(3, g, 3, padding: 1)), ("relu0", ReLU()),
            ("conv1", new StableConv2d(g, 2 * g, 4, stride: 2, padding: 1, bias: false)), ("bn1", BatchNorm2d(2 * g)), ("relu1", ReLU()),
            ("conv2", new StableConv2d(2 * g, 4 * g, 4, stride: 2, padding: 1, bias: false)), ("bn2", BatchNorm2d(4 * g)), ("relu2", ReLU()));
        joint = Sequential(
            ("conv", new StableConv2d(4 * g + config.CondDim, 4 * g, 3, padding: 1, bias: false)), ("bn", BatchNorm2d(4 * g)), ("relu", ReLU()));
        residual = Sequential(Enumerable.Range(0, config.ResidualBlocks)
            .Select(i => ($"res{i}", (Module<Tensor, Tensor>)new ResidualBlock(4 * g))).ToList());
        // Half the channels, rounded up to a multiple of 16 (and at least 16): CPU serving stays on oneDNN's fast path.
        (up, long channels) = StageOneGenerator.UpBlocks(4 * g, config.Upsamplings, c => Math.Max(16, (c / 2 + 15) / 16 * 16));
        toRgb = new StableConv2d(channels, 3, 3, padding: 1);
        RegisterComponents();
    }

    /// <param name="stageOne">[N, 3, 64, 64] in [−1, 1]: Stage-I's image for the same text.</param>
    /// <param name="c">[N, CondDim]: Stage-II's condition, already drawn.</param>
    /// <returns>[N, 3, ImageSize, ImageSize] in [−1, 1].</returns>
    public Tensor FromCondition(Tensor stageOne, Tensor c)
    {
        var h = encode.forward(stageOne);
        var grid = c.view(-1, Config.CondDim, 1, 1).expand(-1, -1, h.shape[2], h.shape[3]);
        h = residual.forward(joint.forward(cat([h, grid], 1)));
        var enlarged = functional.interpolate(stageOne, [Config.ImageSize, Config.ImageSize], mode: InterpolationMode.Bilinear, align_corners: false);
        return functional.tanh(enlarged.clamp(-0.999, 0.999).atanh().add(toRgb.forward(up.forward(h))));
    }

    /// <summary>Conditioning augmentation with a fresh ε (training), then the image.</summary>
    public override (Tensor Image, Tensor Mu, Tensor LogVar) forward(Tensor stageOne, Tensor text)
    {
        var (mu, logVar) = ca.forward(text);
        return (FromCondition(stageOne, ConditioningAugmentation.Sample(mu, logVar, randn_like(mu))), mu, logVar);
    }

    /// <summary>μ and log σ² of Stage-II's condition for a text embedding.</summary>
    public (Tensor Mu, Tensor LogVar) Condition(Tensor text) => ca.forward(text);
}
