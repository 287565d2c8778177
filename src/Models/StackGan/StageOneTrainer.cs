using GanService.Models.Layers;
using GanService.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Models.StackGan;

/// <param name="KlWeight">Weight of conditioning augmentation's KL term in G's loss (the paper's code: 2).</param>
public sealed record StageOneTrainOptions(int BatchSize = 64, double LearningRate = 2e-4, double Beta1 = 0.5, double KlWeight = 2.0, long Seed = 1);

public sealed record StageOneProgress(long Step, double LossD, double LossG, double Kl, double RealRight, double FakeRight, double RealWrong);

public sealed record StageOneTrainState(long Step, StageOneConfig Config, StageOneTrainOptions Options);

/// <summary>
/// Stage-I training with the paper's matching-aware discriminator: D learns (real image, its text) → real, and both
/// (generated image, its text) and (real image, another image's text) → fake, weighted ½ each; G learns to make D call
/// its image real for the text, plus the KL term of conditioning augmentation. The noise of step k (z and the
/// condition's ε) comes from a generator seeded by (seed, k), so a run resumed from a checkpoint continues exactly.
/// </summary>
public sealed class StageOneTrainer : IDisposable
{
    private readonly Adam optG, optD;

    public StageOneGenerator G { get; }
    public StageOneDiscriminator D { get; }
    public StageOneConfig Config { get; }
    public StageOneTrainOptions Options { get; }
    public long Step { get; private set; }
    public Device Device { get; }

    public StageOneTrainer(StageOneConfig config, StageOneTrainOptions options, Device? device = null)
    {
        Config = config;
        Options = options;
        Device = device ?? CPU;
        manual_seed(options.Seed);
        G = new StageOneGenerator(config);
        D = new StageOneDiscriminator(config);
        Init.Dcgan(G);
        Init.Dcgan(D);
        G.to(Device);
        D.to(Device);
        optG = optim.Adam(G.parameters(), options.LearningRate, options.Beta1, 0.999);
        optD = optim.Adam(D.parameters(), options.LearningRate, options.Beta1, 0.999);
    }

    /// <param name="real">[N, 3, 64, 64] in [−1, 1] on the trainer's device.</param>
    /// <param name="text">[N, TextDim]: the embedding of one caption of each image (the encoder is frozen).</param>
    public StageOneProgress TrainStep(Tensor real, Tensor text)
    {
        G.train();
        D.train();
        long n = real.shape[0];
        using var noise = new torch.Generator(unchecked((ulong)(Options.Seed * 1_000_003 + Step)));
        double lossD, lossG, kl, realRight, fakeRight, realWrong;
        // The optimizer steps run outside the dispose scopes: Adam allocates its moment estimates at its first step,
        // and a per-step scope would free them under it (seen: NaN weights after two steps, now and then).
        Tensor fake, klTerm;
        using (NewDisposeScope())
        {
            var (mu, logVar) = G.Condition(text);
            var eps = randn([n, Config.CondDim], generator: noise).to(Device);
            var z = randn([n, Config.LatentDim], generator: noise).to(Device);
            fake = G.FromCondition(ConditioningAugmentation.Sample(mu, logVar, eps), z).MoveToOuterDisposeScope();
            klTerm = ConditioningAugmentation.Kl(mu, logVar).MoveToOuterDisposeScope();

            optD.zero_grad();
            // Another image's text for each real image: the batch rolled by one (images in a batch are distinct).
            var wrong = text.roll(1, 0);
            var dRealRight = D.forward(real, text);
            var dFakeRight = D.forward(fake.detach(), text);
            var dRealWrong = D.forward(real, wrong);
            var ones = ones_like(dRealRight);
            var zeros = zeros_like(dRealRight);
            var lossDt = nn.functional.binary_cross_entropy_with_logits(dRealRight, ones)
                .add(nn.functional.binary_cross_entropy_with_logits(dFakeRight, zeros).mul(0.5))
                .add(nn.functional.binary_cross_entropy_with_logits(dRealWrong, zeros).mul(0.5));
            lossDt.backward();
            lossD = lossDt.item<float>();
            realRight = nn.functional.sigmoid(dRealRight).mean().item<float>();
            fakeRight = nn.functional.sigmoid(dFakeRight).mean().item<float>();
            realWrong = nn.functional.sigmoid(dRealWrong).mean().item<float>();
        }
        optD.step();

        using (fake)
        using (klTerm)
        using (NewDisposeScope())
        {
            optG.zero_grad();
            var dFake = D.forward(fake, text);
            var lossGt = nn.functional.binary_cross_entropy_with_logits(dFake, ones_like(dFake)).add(klTerm.mul(Options.KlWeight));
            lossGt.backward();
            lossG = lossGt.item<float>();
            kl = klTerm.item<float>();
        }
        optG.step();
        Step++;
        return new StageOneProgress(Step, lossD, lossG, kl, realRight, fakeRight, realWrong);
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
