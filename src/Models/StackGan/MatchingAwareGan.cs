using GanService.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Models.StackGan;

/// <summary>One logged training step of either stage.</summary>
/// <param name="RealRight">Mean D(real image, its text): trained towards 1.</param>
/// <param name="FakeRight">Mean D(generated image, its text): D pushes it towards 0, G towards 1.</param>
/// <param name="RealWrong">Mean D(real image, another image's text): trained towards 0 (the "matching-aware" part).</param>
/// <param name="Reconstruction">Mean absolute difference between each generated image and the real image its text
/// describes (in [−1, 1] units); in G's loss only when the run weights it.</param>
public sealed record StackGanProgress(long Step, double LossD, double LossG, double Kl, double RealRight, double FakeRight, double RealWrong,
    double Reconstruction = 0);

/// <summary>What a training loop needs of either stage's trainer.</summary>
public interface IStackGanTrainer : IDisposable
{
    long Step { get; }
    /// <summary>Side of the real images the stage trains against.</summary>
    int ImageSize { get; }
    int BatchSize { get; }
    long Seed { get; }
    Device Device { get; }
    nn.Module Generator { get; }
    nn.Module Discriminator { get; }
    /// <summary>Config and options, for the run's record.</summary>
    object Settings { get; }
    /// <param name="real">[N, 3, ImageSize, ImageSize] in [−1, 1] on the trainer's device.</param>
    /// <param name="text">[N, TextDim] caption embeddings on the trainer's device.</param>
    StackGanProgress TrainStep(Tensor real, Tensor text);
    string SaveCheckpoint(string root);
    /// <summary>Stage-I and (Stage-II only) Stage-II images for the texts, seed i for image i (eval mode).</summary>
    (Tensor StageOne, Tensor? StageTwo) Draw(Tensor text, IReadOnlyList<long> seeds);
}

/// <summary>
/// The paper's matching-aware GAN step, shared by both stages: D learns (real image, its text) → real, and both
/// (generated image, its text) and (real image, another image's text) → fake, weighted ½ each; G learns to make D call
/// its image real for the text, plus the KL term of conditioning augmentation times <c>klWeight</c>.
/// </summary>
public static class MatchingAwareGan
{
    /// <summary>
    /// Both stages' trainers start the same way: DCGAN initialisation of G and D, both moved to <paramref name="device"/>,
    /// and an Adam optimizer for each (β₂ 0.999).
    /// </summary>
    public static (Adam G, Adam D) Prepare(nn.Module g, nn.Module d, Device device, double learningRate, double beta1)
    {
        Init.Dcgan(g);
        Init.Dcgan(d);
        g.to(device);
        d.to(device);
        return (optim.Adam(g.parameters(), learningRate, beta1, 0.999), optim.Adam(d.parameters(), learningRate, beta1, 0.999));
    }

    /// <summary>
    /// Training step <paramref name="step"/> (0-based) of a run seeded with <paramref name="seed"/>: every random draw
    /// comes from generators seeded by (seed, step) alone, so a run resumed from a checkpoint continues exactly.
    /// </summary>
    /// <param name="generate">Makes the batch's images for <paramref name="text"/> and the KL term of their conditions,
    /// with gradients to G's parameters, drawing its noise (z, ε) from the generator it is given; runs once, inside a
    /// dispose scope.</param>
    /// <param name="noiseSigma">Instance noise σ₀, falling to 0 at <paramref name="noiseDecaySteps"/> (<see cref="NoiseAt"/>).</param>
    /// <param name="augment">Whether every image D sees goes through <see cref="DiffAugment"/> first.</param>
    /// <param name="reconstructionWeight">Weight of the L1 distance from each generated image to the real image of its
    /// text in G's loss (pix2pix's term; 0: the paper's pure GAN loss).</param>
    public static StackGanProgress Step(nn.Module<Tensor, Tensor, Tensor> d, Adam optD, Adam optG, Tensor real, Tensor text, Device device,
        long seed, long step, double klWeight, double noiseSigma, long noiseDecaySteps, bool augment, Func<torch.Generator, (Tensor Fake, Tensor Kl)> generate,
        double reconstructionWeight = 0)
    {
        using var noise = new torch.Generator(unchecked((ulong)(seed * 1_000_003 + step)));
        using var augmentSource = augment ? new torch.Generator(unchecked((ulong)(seed * 1_000_037 + step))) : null;
        // TorchSharp's generators are CPU ones: on a GPU, instance noise comes from the device's global generator.
        using var deviceNoise = device.type == DeviceType.CPU ? new torch.Generator(unchecked((ulong)(seed * 1_000_033 + step))) : null;
        return Update(d, optD, optG, real, text, klWeight, reconstructionWeight, step + 1, NoiseAt(noiseSigma, noiseDecaySteps, step), deviceNoise,
            augmentSource, () => generate(noise));
    }

    /// <param name="step">The step's number, for the progress record.</param>
    /// <param name="noise">Instance noise: σ of the Gaussian added to every image D sees this step (0: none).</param>
    /// <param name="noiseSource">Draws that noise on the CPU, seeded by the step so a resumed run adds the same; null on a
    /// GPU, where the device's own generator draws it (a CPU draw of 256 px batches costs more than the GPU step), and
    /// a resumed GPU run is then not bit-exact.</param>
    /// <param name="augment">When set, every image D sees goes through <see cref="DiffAugment"/> first, drawn from it.</param>
    private static StackGanProgress Update(nn.Module<Tensor, Tensor, Tensor> d, Adam optD, Adam optG, Tensor real, Tensor text, double klWeight,
        double reconstructionWeight, long step,
        double noise, torch.Generator? noiseSource, torch.Generator? augment, Func<(Tensor Fake, Tensor Kl)> generate)
    {
        // Instance noise (Sønderby et al. 2016): real emoji sit on exactly white backgrounds that tanh never quite
        // reaches, so without it D wins on the background alone (seen: D(fake) → 0.00 within 1,500 steps, G's loss
        // climbing, Stage-II drawing noise). Fresh noise for each image D looks at, annealed to 0 by the trainer.
        Tensor Noisy(Tensor x)
        {
            if (augment is not null) x = DiffAugment.Apply(x, augment);
            return noise <= 0 ? x : x.add(randn(x.shape, device: x.device, generator: noiseSource).mul(noise));
        }
        double lossD, lossG, kl, realRight, fakeRight, realWrong, reconstruction;
        // The optimizer steps run outside the dispose scopes: Adam allocates its moment estimates at its first step,
        // and a per-step scope would free them under it (seen: NaN weights after two steps, now and then).
        Tensor fake, klTerm;
        using (NewDisposeScope())
        {
            var made = generate();
            fake = made.Fake.MoveToOuterDisposeScope();
            klTerm = made.Kl.MoveToOuterDisposeScope();

            optD.zero_grad();
            // Another image's text for each real image: the batch rolled by one (images in a batch are distinct).
            var wrong = text.roll(1, 0);
            var dRealRight = d.forward(Noisy(real), text);
            var dFakeRight = d.forward(Noisy(fake.detach()), text);
            var dRealWrong = d.forward(Noisy(real), wrong);
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
            var dFake = d.forward(Noisy(fake), text);
            var lossGt = nn.functional.binary_cross_entropy_with_logits(dFake, ones_like(dFake)).add(klTerm.mul(klWeight));
            // The real image its text describes: images and texts of a batch come in pairs.
            var l1 = nn.functional.l1_loss(fake, real);
            if (reconstructionWeight > 0) lossGt = lossGt.add(l1.mul(reconstructionWeight));
            lossGt.backward();
            lossG = lossGt.item<float>();
            kl = klTerm.item<float>();
            reconstruction = l1.item<float>();
        }
        optG.step();
        return new StackGanProgress(step, lossD, lossG, kl, realRight, fakeRight, realWrong, reconstruction);
    }

    /// <summary>Instance noise at step <paramref name="step"/>: σ₀ falling linearly to 0 at <paramref name="decaySteps"/>.</summary>
    public static double NoiseAt(double sigma0, long decaySteps, long step) =>
        decaySteps <= 0 ? 0 : sigma0 * Math.Max(0, 1 - (double)step / decaySteps);
}
