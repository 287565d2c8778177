using GanService.Models.Dcgan;
using GanService.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Models.VideoGan;

/// <param name="DiscriminatorLearningRate">D's Adam rate; null means <see cref="LearningRate"/> (the paper).</param>
/// <param name="RealLabel">Target for real clips in D's loss: 1, or e.g. 0.9 for one-sided label smoothing.</param>
/// <param name="MaskInitBias">Starting bias of G's mask head (<see cref="VideoGanGenerator.InitMaskBias"/>); null keeps
/// the layer's default (masks start near 0.5).</param>
/// <param name="R1">γ of the R1 penalty (Mescheder, Geiger, Nowozin 2018): D's loss adds γ/2·E‖∇ₓD(x)‖² on real clips,
/// which keeps D from growing steep around the data. 0 = off (the paper).</param>
/// <param name="R1Every">The penalty is computed every this many steps, weighted by the interval (StyleGAN2's "lazy"
/// regularisation): on the CPU it costs a double backward through D.</param>
/// <param name="EmaBeta">Decay of <see cref="VideoGanTrainer.Ema"/>, the moving average of G's weights that ships. It
/// only watches G, so it changes nothing in G's or D's training. A checkpoint written before it existed reads as 0.999.</param>
public sealed record VideoGanTrainOptions(int BatchSize = 32, double LearningRate = 2e-4, double Beta1 = 0.5, double Beta2 = 0.999, long Seed = 1,
    double? DiscriminatorLearningRate = null, double RealLabel = 1.0, double? MaskInitBias = null, double R1 = 0, int R1Every = 4,
    double EmaBeta = 0.999);

/// <summary>Where a VGAN training run is, as saved in a checkpoint's <c>state.json</c>.</summary>
public sealed record VideoGanTrainState(long Step, VideoGanConfig Config, VideoGanTrainOptions Options, long SkippedUpdates);

/// <summary>
/// A step's report: both players' losses, the mean mask value, the share of real clips D calls real, and (on steps
/// that compute it, else null) the mean ‖∇ₓD(x)‖² over real clips that the R1 penalty weighs.
/// </summary>
public sealed record VideoGanProgress(long Step, double LossD, double LossG, double MaskMean, double RealAccuracy, long SkippedUpdates,
    double? RealGradientSquared = null);

/// <summary>
/// Trains VGAN as the paper: Adam (2e-4, β1 0.5), D on real clips vs generated ones (binary cross-entropy on logits),
/// G on the non-saturating loss plus λ·mean|mask| (<see cref="VideoGanConfig.MaskSparsity"/>), which pushes the
/// foreground stream to draw only what moves. z of step k comes from a generator seeded with (Seed, k); the caller
/// draws step k's real clips the same way (<see cref="Data.MovingFashion.Clips"/> from clip k·batch), so a run that
/// resumes from a checkpoint continues exactly.
/// </summary>
public sealed class VideoGanTrainer : IDisposable
{
    private readonly Adam optG, optD;
    private readonly Device device;

    public VideoGanConfig Config { get; }
    public VideoGanTrainOptions Options { get; }
    public VideoGanGenerator G { get; }
    public VideoGanDiscriminator D { get; }
    /// <summary>
    /// The exponential moving average of G's weights and of its BatchNorm statistics (integer buffers copied), updated
    /// after every step whose G update was applied; in eval mode, never trained directly.
    /// </summary>
    public VideoGanGenerator Ema { get; }
    public long Step { get; private set; }
    public long SkippedUpdates { get; private set; }

    public VideoGanTrainer(VideoGanConfig config, VideoGanTrainOptions options, Device? device = null)
    {
        config.Validate();
        if (options.R1 < 0 || options.R1Every < 1) throw new ArgumentException("R1 must be ≥ 0 and its interval ≥ 1.");
        if (!(options.EmaBeta >= 0 && options.EmaBeta < 1)) throw new ArgumentException("EmaBeta must be in [0, 1).");
        Config = config;
        Options = options;
        this.device = device ?? CPU;
        manual_seed(options.Seed);
        G = new VideoGanGenerator(config);
        D = new VideoGanDiscriminator(config);
        if (options.MaskInitBias is { } bias) G.InitMaskBias(bias);
        G.to(this.device);
        D.to(this.device);
        // Made after G and D, so their initial weights are those of a trainer without it.
        Ema = new VideoGanGenerator(config);
        foreach (var p in Ema.parameters()) p.requires_grad = false;
        Ema.eval();
        Ema.to(this.device);
        Weights.Copy(G, Ema);
        optG = optim.Adam(G.parameters(), options.LearningRate, options.Beta1, options.Beta2);
        optD = optim.Adam(D.parameters(), options.DiscriminatorLearningRate ?? options.LearningRate, options.Beta1, options.Beta2);
    }

    /// <summary>One step on real clips [N, 3, T, S, S] in [−1, 1].</summary>
    public VideoGanProgress TrainStep(Tensor real)
    {
        using var gen = new torch.Generator(unchecked((ulong)(Options.Seed * 1_000_003 + Step)));
        G.train();
        D.train();
        using var scope = NewDisposeScope();
        var x = real.to(device);
        var z = randn([x.shape[0], Config.LatentDim], generator: gen).to(device);
        using var fake = G.forward(z);

        optD.zero_grad();
        bool r1 = Options.R1 > 0 && (Step + 1) % Options.R1Every == 0;   // steps R1Every, 2·R1Every, … (1-based)
        if (r1) x = x.detach().requires_grad_(true);
        var realLogits = D.forward(x);
        var lossD = DcganLoss.Discriminator(realLogits, D.forward(fake.Video.detach()), Options.RealLabel);
        Tensor? gradientSquared = null;
        if (r1)
        {
            var grad = autograd.grad([realLogits.sum()], [x], retain_graph: true, create_graph: true)[0];
            gradientSquared = grad.square().sum([1, 2, 3, 4]).mean();
            lossD = lossD + Options.R1 / 2 * Options.R1Every * gradientSquared;
        }
        lossD.backward();
        Update(optD, lossD, D);

        optG.zero_grad();
        var maskMean = fake.Mask.mean();
        var lossG = DcganLoss.Generator(D.forward(fake.Video)) + Config.MaskSparsity * maskMean;
        lossG.backward();
        if (Update(optG, lossG, G)) Weights.UpdateAverage(Ema, G, Options.EmaBeta);

        Step++;
        return new VideoGanProgress(Step, lossD.item<float>(), lossG.item<float>(), maskMean.item<float>(),
            realLogits.gt(0).to(ScalarType.Float32).mean().item<float>(), SkippedUpdates, gradientSquared?.item<float>());
    }

    private bool Update(optim.Optimizer optimizer, Tensor loss, nn.Module module)
    {
        if (!Gradients.AllFinite(loss.item<float>(), module))
        {
            SkippedUpdates++;
            return false;
        }
        optimizer.step();
        return true;
    }

    /// <summary>
    /// The generator to ship: a copy of <see cref="Ema"/> whose BatchNorm statistics are recomputed over 25 batches of
    /// 64 latents (<see cref="VideoGanGenerator.RecomputeBatchNorm"/>), in eval mode; the caller disposes it. The
    /// average's own statistics are left as they are. Building the copy draws its throwaway initial weights from the
    /// global RNG, which no training step uses (each draws from a generator seeded by its step), so the run goes on as
    /// if this were never called.
    /// </summary>
    public VideoGanGenerator Shipped()
    {
        var g = new VideoGanGenerator(Config);
        try
        {
            Weights.Copy(Ema, g);
            g.to(device);
            g.RecomputeBatchNorm(25);
            g.eval();
            return g;
        }
        catch
        {
            g.Dispose();
            throw;
        }
    }

    // What a checkpoint holds, by file name.
    private (string, nn.Module)[] Modules => [("generator", G), ("discriminator", D), ("generator_ema", Ema)];
    private (string, Adam)[] Optimizers => [("optimizer_g", optG), ("optimizer_d", optD)];

    /// <summary>Writes G, D, the EMA generator, both optimizers and the step to a new checkpoint folder under <paramref name="root"/>.</summary>
    public string SaveCheckpoint(string root)
    {
        return Checkpoints.Save(root, Step, new VideoGanTrainState(Step, Config, Options, SkippedUpdates), Modules, Optimizers);
    }

    /// <summary>
    /// A trainer in the state of the latest checkpoint under <paramref name="root"/>, or null when there is none. A
    /// checkpoint from before the EMA generator existed starts it from that checkpoint's G.
    /// </summary>
    public static VideoGanTrainer? Resume(string root, Device? device = null)
    {
        if (Checkpoints.LatestState<VideoGanTrainState>(root) is not { } latest) return null;
        var (dir, state) = latest;
        var trainer = new VideoGanTrainer(state.Config, state.Options, device);
        bool hasEma = File.Exists(Path.Combine(dir, "generator_ema.safetensors"));
        Checkpoints.Load(dir, trainer.Modules.Where(m => hasEma || m.Item2 != trainer.Ema), trainer.Optimizers);
        if (!hasEma) Weights.Copy(trainer.G, trainer.Ema);
        trainer.Step = state.Step;
        trainer.SkippedUpdates = state.SkippedUpdates;
        return trainer;
    }

    public void Dispose()
    {
        optG.Dispose();
        optD.Dispose();
        G.Dispose();
        D.Dispose();
        Ema.Dispose();
    }
}
