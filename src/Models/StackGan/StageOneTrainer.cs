using GanService.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Models.StackGan;

/// <param name="KlWeight">Weight of conditioning augmentation's KL term in G's loss (the paper's code: 2).</param>
public sealed record StageOneTrainOptions(int BatchSize = 64, double LearningRate = 2e-4, double Beta1 = 0.5, double KlWeight = 2.0, long Seed = 1, double InstanceNoise = 0.1, long NoiseDecaySteps = 5000, bool Augment = false);

public sealed record StageOneTrainState(long Step, StageOneConfig Config, StageOneTrainOptions Options);

/// <summary>
/// Stage-I training: one <see cref="MatchingAwareGan.Step"/> per batch. The noise of step k (z and the
/// condition's ε) comes from a generator seeded by (seed, k), so a run resumed from a checkpoint continues exactly.
/// </summary>
public sealed class StageOneTrainer : IStackGanTrainer
{
    private readonly Adam optG, optD;

    public StageOneGenerator G { get; }
    public MatchingAwareDiscriminator D { get; }
    public StageOneConfig Config { get; }
    public StageOneTrainOptions Options { get; }
    public long Step { get; private set; }
    public Device Device { get; }

    int IStackGanTrainer.ImageSize => StageOneConfig.ImageSize;
    int IStackGanTrainer.BatchSize => Options.BatchSize;
    long IStackGanTrainer.Seed => Options.Seed;
    nn.Module IStackGanTrainer.Generator => G;
    nn.Module IStackGanTrainer.Discriminator => D;
    object IStackGanTrainer.Settings => new { stage = 1, Config, Options };

    public (Tensor StageOne, Tensor? StageTwo) Draw(Tensor text, IReadOnlyList<long> seeds)
    {
        try { return StackGanPipeline.Draw(G, null, text, seeds); }
        finally { G.train(); }
    }

    public StageOneTrainer(StageOneConfig config, StageOneTrainOptions options, Device? device = null)
    {
        Config = config;
        Options = options;
        Device = device ?? CPU;
        manual_seed(options.Seed);
        G = new StageOneGenerator(config);
        D = new MatchingAwareDiscriminator(config);
        (optG, optD) = MatchingAwareGan.Prepare(G, D, Device, options.LearningRate, options.Beta1);
    }

    /// <param name="real">[N, 3, 64, 64] in [−1, 1] on the trainer's device.</param>
    /// <param name="text">[N, TextDim]: the embedding of one caption of each image (the encoder is frozen).</param>
    public StackGanProgress TrainStep(Tensor real, Tensor text)
    {
        G.train();
        D.train();
        long n = real.shape[0];
        var progress = MatchingAwareGan.Step(D, optD, optG, real, text, Device, Options.Seed, Step, Options.KlWeight,
            Options.InstanceNoise, Options.NoiseDecaySteps, Options.Augment, noise =>
        {
            var (mu, logVar) = G.Condition(text);
            var eps = randn([n, Config.CondDim], generator: noise).to(Device);
            var z = randn([n, Config.LatentDim], generator: noise).to(Device);
            return (G.FromCondition(ConditioningAugmentation.Sample(mu, logVar, eps), z), ConditioningAugmentation.Kl(mu, logVar));
        });
        Step++;
        return progress;
    }

    // What a checkpoint holds, by file name.
    private (string, nn.Module)[] Modules => [("generator", G), ("discriminator", D)];
    private (string, Adam)[] Optimizers => [("optimizer_g", optG), ("optimizer_d", optD)];

    public string SaveCheckpoint(string root)
    {
        return Checkpoints.Save(root, Step, new StageOneTrainState(Step, Config, Options), Modules, Optimizers);
    }

    /// <summary>A trainer in the state of the latest checkpoint under <paramref name="root"/>, or null when there is none.</summary>
    public static StageOneTrainer? Resume(string root, Device? device = null)
    {
        if (Checkpoints.LatestState<StageOneTrainState>(root) is not { } latest) return null;
        var (dir, state) = latest;
        var trainer = new StageOneTrainer(state.Config, state.Options, device);
        Checkpoints.Load(dir, trainer.Modules, trainer.Optimizers);
        trainer.Step = state.Step;
        return trainer;
    }

    public void Dispose()
    {
        optG.Dispose();
        optD.Dispose();
        G.Dispose();
        D.Dispose();
    }
}
