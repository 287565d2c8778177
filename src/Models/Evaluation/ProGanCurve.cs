using GanService.Models.ProGan;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.Evaluation;

/// <summary>
/// Scores a Progressive GAN while it trains, at whatever level and fade-in α it has reached: the images it makes
/// there (fixed latents) are upsampled to the final resolution (nearest) and compared, in a classifier's features,
/// with a seeded sample of real images. This is the curve behind "time to reach a Fréchet distance": a generator
/// still at 16×16 is scored as the 64×64 images it would serve. <see cref="Floor"/> is another real sample of the
/// same size against the same reference.
/// </summary>
public sealed class ProGanCurve : IDisposable
{
    private readonly Classifier classifier;
    private readonly FeatureStatistics reference;
    private readonly Tensor latents;

    public int Samples { get; }
    public double Floor { get; }

    /// <param name="real">[N ≥ 2·samples, C, S, S] in [−1, 1] at the final resolution.</param>
    public ProGanCurve(Classifier classifier, Tensor real, int samples, int latentDim, long seed = 1)
    {
        this.classifier = classifier;
        Samples = samples;
        var (featuresRef, featuresOther) = ImageGeneratorEvaluation.RealSampleFeatures(classifier, real, samples, seed);
        using (featuresRef) reference = FeatureStatistics.Of(featuresRef);
        using (featuresOther)
        using (var other = FeatureStatistics.Of(featuresOther))
            Floor = FrechetDistance.Between(other, reference);
        latents = randn([samples, latentDim], generator: new torch.Generator(unchecked((ulong)seed + 1)));
    }

    /// <summary>Fréchet distance of <paramref name="g"/>'s images at (<paramref name="level"/>, <paramref name="alpha"/>).</summary>
    public double Score(ProGanGenerator g, int level, double alpha)
    {
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        var device = g.parameters().First().device;
        var batches = new List<Tensor>();
        for (long start = 0; start < Samples; start += ImageGeneratorEvaluation.BatchSize)
        {
            long size = Math.Min(ImageGeneratorEvaluation.BatchSize, Samples - start);
            var x = g.ForwardBatched(latents.narrow(0, start, size).to(device), level, alpha).cpu().clamp(-1, 1);
            for (int l = level; l < g.Config.MaxLevel; l++) x = ProGanOps.Upsample2x(x);
            batches.Add(classifier.Features(x));
        }
        using var stats = FeatureStatistics.Of(cat(batches, 0));
        return FrechetDistance.Between(stats, reference);
    }

    public void Dispose()
    {
        reference.Dispose();
        latents.Dispose();
    }
}
