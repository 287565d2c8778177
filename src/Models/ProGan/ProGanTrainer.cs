using GanService.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Models.ProGan;

public sealed record ProGanTrainOptions(
    ProGanSchedule Schedule,
    int BatchSize = 16,
    double LearningRate = 1e-3,
    double Beta1 = 0.0,
    double Beta2 = 0.99,
    double EmaBeta = 0.999,
    double GpLambda = 10.0,
    double Drift = 1e-3,
    long Seed = 1);

/// <summary>Where a ProGAN training run is, as saved in a checkpoint's <c>state.json</c>.</summary>
public sealed record ProGanTrainState(long Step, long ImagesShown, ProGanConfig Config, ProGanTrainOptions Options, long SkippedSteps = 0);

/// <summary>A step's report: schedule position and losses.</summary>
public sealed record ProGanProgress(long Step, long ImagesShown, long TotalImages, int Level, double Alpha, double LossD, double LossG, double Penalty, long SkippedSteps = 0)
{
    public int Resolution => ProGanConfig.Resolution(Level);
    public double Fraction => TotalImages == 0 ? 1 : (double)ImagesShown / TotalImages;
}

/// <summary>
/// Trains a Progressive GAN: WGAN-GP with drift, Adam (β1 0, β2 0.99) with equalized learning rate, one critic step per
/// generator step, an EMA copy of G for inference, the real images downsampled to the current level and blended
/// the way G fades. Everything random in step k (latents, the penalty's mixing, the batch) comes from generators
/// seeded with (Seed, k), so a run resumed from a checkpoint continues exactly as if it had not stopped.
/// </summary>
public sealed class ProGanTrainer : IDisposable
{
    private readonly Adam optG;
    private readonly Adam optD;
    private readonly Device device;


    public ProGanConfig Config { get; }
    public ProGanTrainOptions Options { get; }
    public ProGanGenerator G { get; }
    public ProGanDiscriminator D { get; }
    /// <summary>The exponential moving average of G's weights: the generator that ships.</summary>
    public ProGanGenerator Ema { get; }
    public long Step { get; private set; }
    public long ImagesShown { get; private set; }
    /// <summary>
    /// Optimizer updates left out because a loss or gradient was not finite (libtorch's CPU conv backward under the
    /// double backward, see <see cref="EqualizedConv2d"/>); the batch is dropped and the schedule goes on.
    /// </summary>
    public long SkippedSteps { get; private set; }
    public long TotalImages => Options.Schedule.TotalImages(Config.MaxLevel);
    public bool Done => ImagesShown >= TotalImages;

    public ProGanTrainer(ProGanConfig config, ProGanTrainOptions options, Device? device = null)
    {
        config.Validate();
        options.Schedule.Validate();
        Config = config;
        Options = options;
        this.device = device ?? CPU;
        manual_seed(options.Seed);
        G = new ProGanGenerator(config);
        D = new ProGanDiscriminator(config);
        Ema = new ProGanGenerator(config);
        Weights.Copy(G, Ema);
        foreach (var p in Ema.parameters()) p.requires_grad = false;
        Ema.eval();
        G.to(this.device);
        D.to(this.device);
        Ema.to(this.device);
        optG = optim.Adam(G.parameters(), options.LearningRate, options.Beta1, options.Beta2, eps: 1e-8);
        optD = optim.Adam(D.parameters(), options.LearningRate, options.Beta1, options.Beta2, eps: 1e-8);
    }

    /// <summary>The real batch at the current level: downsampled, and during a fade blended like G's output.</summary>
    private Tensor RealAt(Tensor real, int level, double alpha)
    {
        using var scope = NewDisposeScope();
        var x = real;
        for (int l = Config.MaxLevel; l > level; l--) x = ProGanOps.Downsample2x(x);
        if (level > 0 && alpha < 1.0) x = ProGanOps.Upsample2x(ProGanOps.Downsample2x(x)).lerp(x, alpha);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>One critic step and one generator step on <paramref name="real"/> ([N, C, R, R] in [−1, 1] at the final resolution).</summary>
    public ProGanProgress TrainStep(Tensor real)
    {
        var (level, alpha) = Options.Schedule.At(ImagesShown, Config.MaxLevel);
        long n = real.shape[0];
        using var gen = new torch.Generator(unchecked((ulong)(Options.Seed * 1_000_003 + Step)));
        G.train();
        D.train();
        double lossD, lossG, penalty;
        using (NewDisposeScope())
        {
            var x = RealAt(real.to(device), level, alpha);
            var z = randn([n, Config.LatentDim], generator: gen).to(device);
            Tensor fake;
            using (no_grad()) fake = G.Forward(z, level, alpha);
            optD.zero_grad();
            var (loss, gp) = ProGanLoss.Critic(img => D.Forward(img, level, alpha), x, fake, Options.GpLambda, Options.Drift, gen);
            loss.backward();
            (lossD, penalty) = (loss.item<float>(), gp.item<float>());
        }
        bool finiteD = Gradients.AllFinite(lossD, D);
        if (finiteD) optD.step();
        using (NewDisposeScope())
        {
            var z = randn([n, Config.LatentDim], generator: gen).to(device);
            optG.zero_grad();
            var loss = ProGanLoss.Generator(D.Forward(G.Forward(z, level, alpha), level, alpha));
            loss.backward();
            lossG = loss.item<float>();
        }
        bool finiteG = Gradients.AllFinite(lossG, G);
        if (finiteG) optG.step();
        if (finiteD && finiteG) Weights.UpdateAverage(Ema, G, Options.EmaBeta);
        else SkippedSteps++;
        Step++;
        ImagesShown += n;
        return new ProGanProgress(Step, ImagesShown, TotalImages, level, alpha, lossD, lossG, penalty, SkippedSteps);
    }

    /// <summary>
    /// Trains on <paramref name="images"/> ([M, C, R, R] in [−1, 1]) until the schedule's end, or <paramref name="maxSteps"/>
    /// more steps. Batches come from the shared shuffled schedule; on resume the steps already taken are skipped.
    /// </summary>
    public void Train(Tensor images, IProgress<ProGanProgress>? progress = null, long? maxSteps = null, CancellationToken ct = default)
    {
        long stepsTotal = (TotalImages + Options.BatchSize - 1) / Options.BatchSize;
        long stop = maxSteps is { } m ? Math.Min(stepsTotal, Step + m) : stepsTotal;
        foreach (var (_, idx) in Batches.Shuffled(images.shape[0], Options.BatchSize, stop, Options.Seed).Skip((int)Step))
        {
            ct.ThrowIfCancellationRequested();
            if (Done) break;
            using var batch = images.index_select(0, idx);
            var report = TrainStep(batch);
            progress?.Report(report);
        }
    }


    // What a checkpoint holds, by file name.
    private (string, nn.Module)[] Modules => [("generator", G), ("discriminator", D), ("generator_ema", Ema)];
    private (string, Adam)[] Optimizers => [("optimizer_g", optG), ("optimizer_d", optD)];

    /// <summary>
    /// Writes G, D, the EMA generator, both optimizers and the position to a new folder <c>step-NNNNNNNNN</c> under
    /// <paramref name="root"/>, then points <c>root/latest</c> at it (an atomic rename): a process killed while
    /// saving leaves the previous checkpoint in force. Keeps the two newest. Returns the folder.
    /// </summary>
    public string SaveCheckpoint(string root)
    {
        return Checkpoints.Save(root, Step, new ProGanTrainState(Step, ImagesShown, Config, Options, SkippedSteps), Modules, Optimizers);
    }

    /// <summary>The folder <c>root/latest</c> names, or null when there is no checkpoint yet.</summary>
    public static string? LatestCheckpoint(string root) => Checkpoints.Latest(root);

    /// <summary>A trainer in the exact state the latest checkpoint under <paramref name="root"/> recorded.</summary>
    public static ProGanTrainer Resume(string root, Device? device = null)
    {
        var (dir, state) = Checkpoints.LatestState<ProGanTrainState>(root)
            ?? throw new FileNotFoundException($"No checkpoint under {root} (no 'latest' file).");
        var trainer = new ProGanTrainer(state.Config, state.Options, device);
        Checkpoints.Load(dir, trainer.Modules, trainer.Optimizers);
        trainer.Step = state.Step;
        trainer.ImagesShown = state.ImagesShown;
        trainer.SkippedSteps = state.SkippedSteps;
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
