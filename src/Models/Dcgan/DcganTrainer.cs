using GanService.Models.Layers;
using GanService.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.Dcgan;

public sealed record DcganTrainOptions(
    int Epochs = 10,
    int BatchSize = 64,
    double LearningRate = 2e-4,
    double Beta1 = 0.5,
    double RealLabel = 0.9,
    long Seed = 1,
    long? MaxSteps = null,
    DiscriminatorConditioning Conditioning = DiscriminatorConditioning.LabelPlanes,
    double ClassWeight = 1.0);

/// <summary>
/// Trains a (conditional) DCGAN with Adam as pytorch/examples does, on tensors already in memory. With
/// <see cref="DiscriminatorConditioning.AuxClassifier"/> it is an AC-GAN whose class head is trained on real images
/// only (so D's classifier is never taught G's mistakes) and G gets the class loss of its fakes on top of the
/// non-saturating adversarial loss, both weighted by <see cref="DcganTrainOptions.ClassWeight"/>.
/// </summary>
public sealed class DcganTrainer : IDisposable
{
    private readonly optim.Optimizer optG;
    private readonly optim.Optimizer optD;
    private readonly DcganTrainOptions options;
    private readonly Device device;

    public Generator G { get; }
    public Discriminator D { get; }

    public DcganTrainer(DcganConfig config, DcganTrainOptions options, Device? device = null)
    {
        this.options = options;
        this.device = device ?? CPU;
        manual_seed(options.Seed);
        G = new Generator(config);
        D = new Discriminator(config, options.Conditioning);
        Init.Dcgan(G);
        Init.Dcgan(D);
        G.to(this.device);
        D.to(this.device);
        optG = optim.Adam(G.parameters(), options.LearningRate, options.Beta1, 0.999);
        optD = optim.Adam(D.parameters(), options.LearningRate, options.Beta1, 0.999);
    }

    /// <summary>One D step then one G step on a batch of real images. Returns (lossD, lossG).</summary>
    /// <remarks>
    /// The optimizer steps run outside the dispose scopes, so that nothing the optimizer allocates for itself
    /// (its moment estimates) is ever owned by a per-step scope.
    /// </remarks>
    /// <param name="real">[N, C, H, W] on the trainer's device.</param>
    /// <param name="labels">[N] int64 on the trainer's device, or null when unconditional.</param>
    public (double LossD, double LossG) Step(Tensor real, Tensor? labels)
    {
        G.train();
        D.train();
        Tensor fake;
        double lossD, lossG;
        using (NewDisposeScope())
        {
            var z = randn([real.shape[0], G.Config.LatentDim], device: device);
            fake = G.forward(z, labels).MoveToOuterDisposeScope();
            optD.zero_grad();
            var (realLogits, realClasses) = D.Heads(real, labels);
            var loss = DcganLoss.Discriminator(realLogits, D.forward(fake.detach(), labels), options.RealLabel);
            if (realClasses is not null && labels is not null)
                loss = loss + options.ClassWeight * nn.functional.cross_entropy(realClasses, labels);
            loss.backward();
            lossD = loss.item<float>();
        }
        optD.step();

        using (fake)
        using (NewDisposeScope())
        {
            optG.zero_grad();
            var (fakeLogits, fakeClasses) = D.Heads(fake, labels);
            var loss = DcganLoss.Generator(fakeLogits);
            if (fakeClasses is not null && labels is not null)
                loss = loss + options.ClassWeight * nn.functional.cross_entropy(fakeClasses, labels);
            loss.backward();
            lossG = loss.item<float>();
        }
        optG.step();
        return (lossD, lossG);
    }

    /// <summary>Runs the epochs over (images, labels), shuffled each epoch from the seed.</summary>
    public void Train(Tensor images, Tensor? labels, IProgress<TrainProgress>? progress = null, CancellationToken ct = default)
    {
        long n = images.shape[0];
        long total = options.MaxSteps ?? n / options.BatchSize * options.Epochs;
        long step = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var (epoch, idx) in Batches.Shuffled(n, options.BatchSize, total, options.Seed))
        {
            ct.ThrowIfCancellationRequested();
            using var x = images.index_select(0, idx).to(device);
            using var y = labels?.index_select(0, idx).to(device);
            var (lossD, lossG) = Step(x, y);
            step++;
            double ips = step * options.BatchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            progress?.Report(new TrainProgress(step, total, epoch, lossD, lossG, ips));
        }
    }

    public void Dispose()
    {
        optG.Dispose();
        optD.Dispose();
        G.Dispose();
        D.Dispose();
    }
}
