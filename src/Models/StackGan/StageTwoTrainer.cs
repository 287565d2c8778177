using GanService.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Models.StackGan;

public sealed record StageTwoTrainOptions(int BatchSize = 32, double LearningRate = 2e-4, double Beta1 = 0.5, double KlWeight = 2.0, long Seed = 1, double InstanceNoise = 0.1, long NoiseDecaySteps = 4000, bool Augment = true,
    double ReconstructionWeight = 0);

public sealed record StageTwoTrainState(long Step, StageTwoConfig Config, StageTwoTrainOptions Options, StageOneConfig StageOne);

/// <summary>
/// Stage-II training (the paper's): Stage-I's generator is frozen (eval mode, no gradients) and draws the 64×64 image
/// for each caption; Stage-II learns to turn it and the text into a real-resolution image, with the same matching-aware
/// step as Stage-I (<see cref="MatchingAwareGan.Step"/>) against real images at Stage-II's resolution. With
/// <see cref="StageTwoTrainOptions.ReconstructionWeight"/> above 0, G's loss also has pix2pix's L1 term: the distance to
/// the real image the caption describes, which Stage-I's sketch for that caption approximates. Step k's noise
/// (Stage-I's ε and z, Stage-II's ε) comes from (seed, k); a checkpoint holds the frozen Stage-I too, so a resumed run
/// continues exactly.
/// </summary>
public sealed class StageTwoTrainer : IStackGanTrainer
{
    private readonly Adam optG, optD;

    public StageOneGenerator StageOne { get; }
    public StageTwoGenerator G { get; }
    public MatchingAwareDiscriminator D { get; }
    public StageTwoConfig Config { get; }
    public StageTwoTrainOptions Options { get; }
    public long Step { get; private set; }
    public Device Device { get; }

    int IStackGanTrainer.ImageSize => Config.ImageSize;
    int IStackGanTrainer.BatchSize => Options.BatchSize;
    long IStackGanTrainer.Seed => Options.Seed;
    nn.Module IStackGanTrainer.Generator => G;
    nn.Module IStackGanTrainer.Discriminator => D;
    object IStackGanTrainer.Settings => new { stage = 2, Config, Options, StageOne = StageOne.Config };

    public (Tensor StageOne, Tensor? StageTwo) Draw(Tensor text, IReadOnlyList<long> seeds)
    {
        try { return StackGanPipeline.Draw(StageOne, G, text, seeds); }
        finally { G.train(); }
    }

    /// <param name="stageOne">A trained Stage-I generator; the trainer owns it from here on (moves, freezes, disposes it).</param>
    public StageTwoTrainer(StageTwoConfig config, StageTwoTrainOptions options, StageOneGenerator stageOne, Device? device = null)
    {
        if (stageOne.Config.TextDim != config.TextDim)
            throw new ArgumentException($"Stage-I reads {stageOne.Config.TextDim}-wide text, Stage-II {config.TextDim}.");
        Config = config;
        Options = options;
        Device = device ?? CPU;
        manual_seed(options.Seed);
        G = new StageTwoGenerator(config);
        D = new MatchingAwareDiscriminator(config);
        (optG, optD) = MatchingAwareGan.Prepare(G, D, Device, options.LearningRate, options.Beta1);
        StageOne = stageOne;
        StageOne.to(Device);
        StageOne.eval();
        foreach (var p in StageOne.parameters()) p.requires_grad = false;
    }

    /// <param name="real">[N, 3, ImageSize, ImageSize] in [−1, 1] on the trainer's device.</param>
    /// <param name="text">[N, TextDim]: the embedding of one caption of each image (the encoder is frozen).</param>
    public StackGanProgress TrainStep(Tensor real, Tensor text)
    {
        G.train();
        D.train();
        long n = real.shape[0];
        var progress = MatchingAwareGan.Step(D, optD, optG, real, text, Device, Options.Seed, Step, Options.KlWeight,
            Options.InstanceNoise, Options.NoiseDecaySteps, Options.Augment, noise =>
        {
            var eps1 = randn([n, StageOne.Config.CondDim], generator: noise).to(Device);
            var z = randn([n, StageOne.Config.LatentDim], generator: noise).to(Device);
            var eps2 = randn([n, Config.CondDim], generator: noise).to(Device);
            Tensor low;
            using (no_grad())
            {
                var (mu1, logVar1) = StageOne.Condition(text);
                low = StageOne.FromCondition(ConditioningAugmentation.Sample(mu1, logVar1, eps1), z);
            }
            var (mu, logVar) = G.Condition(text);
            return (G.FromCondition(low, ConditioningAugmentation.Sample(mu, logVar, eps2)), ConditioningAugmentation.Kl(mu, logVar));
        }, Options.ReconstructionWeight);
        Step++;
        return progress;
    }

    // What a checkpoint holds, by file name.
    private (string, nn.Module)[] Modules => [("generator", G), ("discriminator", D), ("stage_one", StageOne)];
    private (string, Adam)[] Optimizers => [("optimizer_g", optG), ("optimizer_d", optD)];

    public string SaveCheckpoint(string root) =>
        Checkpoints.Save(root, Step, new StageTwoTrainState(Step, Config, Options, StageOne.Config), Modules, Optimizers);

    /// <summary>A trainer in the state of the latest checkpoint under <paramref name="root"/>, or null when there is none.</summary>
    public static StageTwoTrainer? Resume(string root, Device? device = null)
    {
        if (Checkpoints.LatestState<StageTwoTrainState>(root) is not { } latest) return null;
        var (dir, state) = latest;
        var trainer = new StageTwoTrainer(state.Config, state.Options, new StageOneGenerator(state.StageOne), device);
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
        StageOne.Dispose();
    }
}
