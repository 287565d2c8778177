using TorchSharp;
using GanService.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.StackGan;

/// <summary>Stage-I sizes (the paper: text 1,024 → c 128, z 100, G's 4×4 map 1,024 channels, D 64 → 512; ours is
/// narrower for a CPU).</summary>
/// <param name="TextDim">Width of the text embedding read (the caption encoder's output).</param>
/// <param name="CondDim">Width of the conditioning vector c drawn by conditioning augmentation.</param>
/// <param name="LatentDim">Width of the noise z.</param>
/// <param name="Ngf">Channels of G's last block; its 4×4 map has 8·Ngf.</param>
/// <param name="Ndf">Channels of D's first block; its 4×4 map has 8·Ndf.</param>
public sealed record StageOneConfig(int TextDim = 128, int CondDim = 128, int LatentDim = 100, int Ngf = 48, int Ndf = 48)
{
    public const int ImageSize = 64;

    public static StageOneConfig Paper { get; } = new(TextDim: 1024, CondDim: 128, LatentDim: 100, Ngf: 128, Ndf: 64);

    public void Validate()
    {
        if (TextDim < 1 || CondDim < 1 || LatentDim < 1) throw new ArgumentException("text, condition and latent widths must be positive.");
        if (Ngf is < 4 or > 512 || Ndf is < 4 or > 512) throw new ArgumentException($"ngf and ndf must be 4..512, got {Ngf} and {Ndf}.");
    }
}

/// <summary>
/// Conditioning augmentation: the text embedding → a fully connected layer with ReLU → μ and log σ² of a Gaussian
/// over the condition c, drawn as c = μ + σ·ε. Training draws a new ε each time (so nearby captions cover a
/// neighbourhood rather than a point) and adds the KL divergence to N(0, I); serving draws ε from the job's seed.
/// </summary>
public sealed class ConditioningAugmentation : Module<Tensor, (Tensor Mu, Tensor LogVar)>
{
    private readonly Linear fc;

    public ConditioningAugmentation(int textDim, int condDim) : base(nameof(ConditioningAugmentation))
    {
        fc = Linear(textDim, 2 * condDim);
        RegisterComponents();
    }

    public override (Tensor Mu, Tensor LogVar) forward(Tensor text)
    {
        var h = functional.relu(fc.forward(text));
        var parts = h.chunk(2, 1);
        return (parts[0], parts[1]);
    }

    /// <summary>c = μ + exp(log σ² / 2)·ε.</summary>
    public static Tensor Sample(Tensor mu, Tensor logVar, Tensor eps) => mu.add(logVar.mul(0.5).exp().mul(eps));

    /// <summary>KL(N(μ, σ²) ‖ N(0, I)), averaged over the batch and the condition's dimensions (the paper's code).</summary>
    public static Tensor Kl(Tensor mu, Tensor logVar) => mu.pow(2).add(logVar.exp()).sub(1).sub(logVar).mul(0.5).mean();
}

/// <summary>
/// Stage-I generator: [c, z] → fully connected → 4×4×8·Ngf → four (nearest ×2, conv 3×3, BatchNorm, ReLU) blocks
/// halving the channels → 64×64 → conv 3×3 → tanh: a rough 64×64 image of the caption (the paper's Stage-I layout).
/// </summary>
public sealed class StageOneGenerator : Module<Tensor, Tensor, (Tensor Image, Tensor Mu, Tensor LogVar)>
{
    private readonly ConditioningAugmentation ca;
    private readonly Linear fc;
    private readonly BatchNorm1d fcNorm;
    private readonly Sequential up;
    private readonly StableConv2d toRgb;

    public StageOneConfig Config { get; }

    public StageOneGenerator(StageOneConfig config) : base(nameof(StageOneGenerator))
    {
        config.Validate();
        Config = config;
        ca = new ConditioningAugmentation(config.TextDim, config.CondDim);
        long top = 8L * config.Ngf;
        fc = Linear(config.CondDim + config.LatentDim, top * 4 * 4, hasBias: false);
        fcNorm = BatchNorm1d(top * 4 * 4);
        (up, long channels) = UpBlocks(top, 4, c => Math.Max(c / 2, config.Ngf / 2));
        toRgb = new StableConv2d(channels, 3, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>
    /// <paramref name="count"/> (nearest ×2, conv 3×3 without bias, BatchNorm, ReLU) blocks named up{i}, conv{i}, bn{i},
    /// relu{i} (both stages' upsampling, so their weight names match), the channels going c → <paramref name="next"/>(c).
    /// </summary>
    internal static (Sequential Blocks, long Channels) UpBlocks(long channels, int count, Func<long, long> next)
    {
        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        for (int i = 0; i < count; i++)
        {
            long n = next(channels);
            blocks.Add(($"up{i}", Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Nearest)));
            blocks.Add(($"conv{i}", new StableConv2d(channels, n, 3, padding: 1, bias: false)));
            blocks.Add(($"bn{i}", BatchNorm2d(n)));
            blocks.Add(($"relu{i}", ReLU()));
            channels = n;
        }
        return (Sequential(blocks), channels);
    }

    /// <summary>The image from a condition already drawn (what serving uses: c from the job's seed).</summary>
    public Tensor FromCondition(Tensor c, Tensor z)
    {
        var h = functional.relu(fcNorm.forward(fc.forward(cat([c, z], 1))));
        h = h.view(-1, 8L * Config.Ngf, 4, 4);
        return functional.tanh(toRgb.forward(up.forward(h)));
    }

    /// <summary>Conditioning augmentation of the text embedding, then the image.</summary>
    /// <param name="text">[N, TextDim].</param>
    /// <param name="z">[N, LatentDim].</param>
    /// <returns>[N, 3, 64, 64] in [−1, 1], and the μ, log σ² the condition was drawn from (for the KL term).</returns>
    public override (Tensor Image, Tensor Mu, Tensor LogVar) forward(Tensor text, Tensor z)
    {
        var (mu, logVar) = ca.forward(text);
        var c = ConditioningAugmentation.Sample(mu, logVar, randn_like(mu));
        return (FromCondition(c, z), mu, logVar);
    }

    /// <summary>μ and log σ² of the condition for a text embedding (serving draws ε itself).</summary>
    public (Tensor Mu, Tensor LogVar) Condition(Tensor text) => ca.forward(text);
}
