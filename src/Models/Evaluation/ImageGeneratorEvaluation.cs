using GanService.Models.Dcgan;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.Evaluation;

/// <summary>What <see cref="ImageGeneratorEvaluation"/> measured.</summary>
/// <param name="FrechetDistance">Generated (one image per reference image, seeds 0…) vs the reference half.</param>
/// <param name="FrechetDistanceFloor">The other real half vs the reference half: what a perfect generator could reach at this sample size.</param>
/// <param name="FrechetDistanceUntrained">A freshly initialised generator of the same config vs the reference half.</param>
/// <param name="CategoryShare">Share of generated images the classifier puts in each class.</param>
/// <param name="CategoryShareReal">The same for the real images.</param>
/// <param name="CategoryTotalVariation">½ Σ |generated share − real share|: 0 when the mix of classes matches.</param>
public sealed record ImageGeneratorEvaluationResult(
    double FrechetDistance,
    double FrechetDistanceFloor,
    double FrechetDistanceUntrained,
    int Samples,
    IReadOnlyDictionary<string, double> CategoryShare,
    IReadOnlyDictionary<string, double> CategoryShareReal,
    double CategoryTotalVariation);

/// <summary>
/// Scores an unconditional generator against a real image set in a classifier's features (FID's recipe with our own
/// classifier): the real set is split in two seeded halves; the generator draws as many images as one half holds; the
/// Fréchet distance to the other half is set beside the real-vs-real floor and an untrained generator's score, all
/// at the same sample size (FD is biased upwards at small sizes, so only equal sizes compare).
/// </summary>
public static class ImageGeneratorEvaluation
{
    public const int BatchSize = 250;

    /// <param name="real">[N, C, S, S] in [−1, 1] at the classifier's and generator's resolution.</param>
    /// <param name="untrained">A freshly initialised generator of the same kind, for the upper anchor.</param>
    public static ImageGeneratorEvaluationResult Run(
        IImageGenerator generator, IImageGenerator untrained, Classifier classifier, Tensor real, IReadOnlyList<string> classNames, long seed = 1)
    {
        if (generator.NumClasses != 0) throw new ArgumentException("this evaluation is for unconditional generators.");
        if (generator.ImageSize != classifier.Config.ImageSize || generator.Channels != classifier.Config.Channels)
            throw new ArgumentException($"the generator makes {generator.Channels}×{generator.ImageSize}² images, the classifier takes {classifier.Config.Channels}×{classifier.Config.ImageSize}².");
        long n = real.shape[0] / 2;
        var (featuresA, featuresB) = RealSampleFeatures(classifier, real, n, seed);
        using var _a = featuresA;
        using var _b = featuresB;
        using var statsB = FeatureStatistics.Of(featuresB);
        using var statsA = FeatureStatistics.Of(featuresA);
        using var generated = Generated(generator, classifier, n);
        using var statsGenerated = FeatureStatistics.Of(generated);
        using var untrainedFeatures = Generated(untrained, classifier, n);
        using var statsUntrained = FeatureStatistics.Of(untrainedFeatures);

        var shareGenerated = Shares(classifier, generated, classNames);
        using var realFeatures = cat([featuresA, featuresB], 0);
        var shareReal = Shares(classifier, realFeatures, classNames);
        double tv = 0.5 * classNames.Sum(c => Math.Abs(shareGenerated[c] - shareReal[c]));
        return new ImageGeneratorEvaluationResult(
            FrechetDistance.Between(statsGenerated, statsB),
            FrechetDistance.Between(statsA, statsB),
            FrechetDistance.Between(statsUntrained, statsB),
            (int)n,
            shareGenerated,
            shareReal,
            tv);
    }

    /// <summary>
    /// Classifier features of two disjoint samples of <paramref name="n"/> real images each, drawn by a permutation
    /// seeded with <paramref name="seed"/>: its first n images, then its next n.
    /// </summary>
    public static (Tensor First, Tensor Second) RealSampleFeatures(Classifier classifier, Tensor real, long n, long seed)
    {
        if (real.shape[0] < 2 * n) throw new ArgumentException($"need {2 * n} real images, have {real.shape[0]}.");
        using var perm = randperm(real.shape[0], generator: new torch.Generator(unchecked((ulong)seed)));
        using var first = real.index_select(0, perm.narrow(0, 0, n));
        using var second = real.index_select(0, perm.narrow(0, n, n));
        return (classifier.FeaturesInBatches(first, BatchSize), classifier.FeaturesInBatches(second, BatchSize));
    }

    /// <summary>Features [count, 128] of images generated with seeds 0 … count−1, clamped to [−1, 1] as serving quantises them.</summary>
    public static Tensor Generated(IImageGenerator generator, Classifier classifier, long count)
    {
        ((nn.Module)generator).eval();
        classifier.eval();
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        var batches = new List<Tensor>();
        for (long start = 0; start < count; start += BatchSize)
        {
            long size = Math.Min(BatchSize, count - start);
            var seeds = Enumerable.Range(0, (int)size).Select(i => start + i).ToArray();
            var z = Latents.ForSeeds(seeds, generator.LatentDim);
            // ProGAN computes images one at a time in eval mode (batch invariance for serving); here a batch is fine.
            var images = (generator is ProGan.ProGanGenerator p ? p.ForwardBatched(z) : generator.Generate(z, null)).clamp(-1, 1);
            if (images.isnan().any().item<bool>())
                throw new InvalidOperationException($"the generator returned NaN pixels for seeds {start}..{start + size - 1}.");
            batches.Add(classifier.Features(images));
        }
        return cat(batches, 0).MoveToOuterDisposeScope();
    }

    static Dictionary<string, double> Shares(Classifier classifier, Tensor features, IReadOnlyList<string> classNames)
    {
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        var counts = classifier.Logits(features).argmax(1).bincount(null, classNames.Count).to(ScalarType.Float64);
        var shares = counts.div(features.shape[0]).data<double>().ToArray();
        return classNames.Select((c, i) => (c, shares[i])).ToDictionary(t => t.c, t => t.Item2);
    }
}
