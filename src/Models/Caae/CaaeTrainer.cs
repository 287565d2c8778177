using GanService.Models.Data;
using GanService.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Models.Caae;

/// <param name="CrossAgeWeight">Weight of the adversarial term on faces drawn at a random other age (the paper judges
/// reconstructions only; with a few hundred faces G otherwise learns to ignore the label).</param>
public sealed record CaaeTrainOptions(
    int BatchSize = 32,
    double LearningRate = 2e-4,
    double Beta1 = 0.5,
    double Beta2 = 0.999,
    double ImageAdversarialWeight = 0.01,
    double CrossAgeWeight = 0.01,
    double ZAdversarialWeight = 0.01,
    double TvWeight = 0.0,
    int MaxShift = 4,
    double Jitter = 0.05,
    long Seed = 1);

/// <summary>Where a CAAE training run is, as saved in a checkpoint's <c>state.json</c>.</summary>
public sealed record CaaeTrainState(long Step, CaaeConfig Config, CaaeTrainOptions Options, long SkippedUpdates);

/// <summary>A step's report: the reconstruction error and each player's loss.</summary>
public sealed record CaaeProgress(long Step, double L1, double LossDz, double LossDimg, double LossEG, long SkippedUpdates);

/// <summary>
/// Trains E, G, D_z and D_img together (Adam, lr 2e-4, β1 0.5, as the paper's code). Each step: augment the batch
/// (flip, shift on white, a brightness/contrast jitter that keeps white white), update D_z on prior draws vs codes,
/// D_img on (face, label) vs (reconstruction, label) and (other-age face, other label), then E and G on L1 plus the
/// weighted fooling terms. Everything random in step k comes from a generator seeded with (Seed, k).
/// </summary>
public sealed class CaaeTrainer : IDisposable
{
    private readonly Adam optEG, optDz, optDimg;
    private readonly Device device;

    public CaaeConfig Config { get; }
    public CaaeTrainOptions Options { get; }
    /// <summary>E and G, the part that is saved and served.</summary>
    public CaaeModel Model { get; }
    public CaaeEncoder E => Model.Encoder;
    public CaaeGenerator G => Model.Generator;
    public CaaeDz Dz { get; }
    public CaaeDimg Dimg { get; }
    public long Step { get; private set; }

    /// <summary>Optimizer updates left out because their loss or a gradient was not finite (<see cref="Gradients.AllFinite"/>).</summary>
    public long SkippedUpdates { get; private set; }

    public CaaeTrainer(CaaeConfig config, CaaeTrainOptions options, Device? device = null)
    {
        config.Validate();
        Config = config;
        Options = options;
        this.device = device ?? CPU;
        manual_seed(options.Seed);
        Model = new CaaeModel(config);
        Dz = new CaaeDz(config);
        Dimg = new CaaeDimg(config);
        foreach (var m in new nn.Module[] { Model, Dz, Dimg }) m.to(this.device);
        optEG = optim.Adam(E.parameters().Concat(G.parameters()), options.LearningRate, options.Beta1, options.Beta2);
        optDz = optim.Adam(Dz.parameters(), options.LearningRate, options.Beta1, options.Beta2);
        optDimg = optim.Adam(Dimg.parameters(), options.LearningRate, options.Beta1, options.Beta2);
    }

    /// <summary>One step on a batch: faces [N, 3, R, R] in [−1, 1] on white, age group and gender indices [N].</summary>
    public CaaeProgress TrainStep(Tensor faces, Tensor ages, Tensor genders)
    {
        using var gen = new torch.Generator(unchecked((ulong)(Options.Seed * 1_000_003 + Step)));
        foreach (var m in new nn.Module[] { E, G, Dz, Dimg }) m.train();
        using var scope = NewDisposeScope();
        long n = faces.shape[0];
        var x = FaceAugment.Apply(faces, gen, Options.MaxShift, Options.Jitter).to(device);
        var label = Config.Label(ages, genders).to(device);
        var otherAges = randint(0, Config.AgeGroups, [n], generator: gen, dtype: ScalarType.Int64);
        var otherLabel = Config.Label(otherAges, Faces.GenderAt(otherAges, genders)).to(device);
        var prior = rand([n, Config.ZDim], generator: gen).mul(2).sub(1).to(device);

        var z = E.forward(x);
        var recon = G.forward(z, label);
        var other = G.forward(z, otherLabel);

        optDz.zero_grad();
        var lossDz = CaaeLoss.Discriminator(Dz.forward(prior), Dz.forward(z.detach()));
        lossDz.backward();
        Update(optDz, lossDz, Dz);

        optDimg.zero_grad();
        var lossDimg = CaaeLoss.Discriminator(Dimg.forward(x, label), Dimg.forward(recon.detach(), label))
            + CaaeLoss.Discriminator(Dimg.forward(x, label), Dimg.forward(other.detach(), otherLabel));
        lossDimg.backward();
        Update(optDimg, lossDimg, Dimg);

        optEG.zero_grad();
        var l1 = CaaeLoss.Reconstruction(x, recon);
        var lossEG = l1
            + Options.ImageAdversarialWeight * CaaeLoss.Fool(Dimg.forward(recon, label))
            + Options.CrossAgeWeight * CaaeLoss.Fool(Dimg.forward(other, otherLabel))
            + Options.ZAdversarialWeight * CaaeLoss.Fool(Dz.forward(z));
        if (Options.TvWeight > 0) lossEG = lossEG + Options.TvWeight * CaaeLoss.TotalVariation(recon);
        lossEG.backward();
        Update(optEG, lossEG, E, G);

        Step++;
        return new CaaeProgress(Step, l1.item<float>(), lossDz.item<float>(), lossDimg.item<float>(), lossEG.item<float>(), SkippedUpdates);
    }

    private void Update(optim.Optimizer optimizer, Tensor loss, params nn.Module[] modules)
    {
        if (Gradients.AllFinite(loss.item<float>(), modules)) optimizer.step();
        else SkippedUpdates++;
    }

    /// <summary>E's codes and G's faces at the given labels, in eval mode, for a batch of faces (on the CPU).</summary>
    public Tensor Transform(Tensor faces, Tensor ages, Tensor genders)
    {
        using var scope = NewDisposeScope();
        return Model.Transform(faces.to(device), ages, genders).cpu().MoveToOuterDisposeScope();
    }

    // What a checkpoint holds, by file name.
    private (string, nn.Module)[] Modules => [("caae", Model), ("dz", Dz), ("dimg", Dimg)];
    private (string, Adam)[] Optimizers => [("optimizer_eg", optEG), ("optimizer_dz", optDz), ("optimizer_dimg", optDimg)];

    /// <summary>
    /// Writes E+G, D_z, D_img, the three optimizers and the step to a new checkpoint folder under
    /// <paramref name="root"/> (<see cref="Checkpoints"/>). Every random draw of step k is seeded by (Seed, k), so
    /// <see cref="Resume"/> continues exactly as if the run had not stopped.
    /// </summary>
    public string SaveCheckpoint(string root)
    {
        return Checkpoints.Save(root, Step, new CaaeTrainState(Step, Config, Options, SkippedUpdates), Modules, Optimizers);
    }

    /// <summary>A trainer in the state of the latest checkpoint under <paramref name="root"/>, or null when there is none.</summary>
    public static CaaeTrainer? Resume(string root, Device? device = null)
    {
        if (Checkpoints.LatestState<CaaeTrainState>(root) is not { } latest) return null;
        var (dir, state) = latest;
        var trainer = new CaaeTrainer(state.Config, state.Options, device);
        Checkpoints.Load(dir, trainer.Modules, trainer.Optimizers);
        trainer.Step = state.Step;
        trainer.SkippedUpdates = state.SkippedUpdates;
        return trainer;
    }

    public void Dispose()
    {
        optEG.Dispose();
        optDz.Dispose();
        optDimg.Dispose();
        foreach (var m in new nn.Module[] { Model, Dz, Dimg }) m.Dispose();
    }
}
