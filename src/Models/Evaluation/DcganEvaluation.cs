using GanService.Models.Data;
using GanService.Models.Dcgan;
using GanService.Models.Layers;
using Generator = GanService.Models.Dcgan.Generator;
using static TorchSharp.torch;

namespace GanService.Models.Evaluation;

public sealed record DcganEvaluationResult(
    IReadOnlyDictionary<string, double> LabelAccuracy,
    double LabelAccuracyOverall,
    double FrechetDistance,
    double FrechetDistanceFloor,
    double FrechetDistanceUntrained,
    int Samples,
    IReadOnlyDictionary<string, double> RealLabelAccuracy);

/// <summary>
/// Scores a conditional Fashion-MNIST generator with <see cref="Classifier"/>: how often an image is classified as the
/// label it was asked for, and the Fréchet distance in classifier features to the test split, beside two anchors:
/// the floor (train images vs test images, what a perfect generator could reach) and a freshly initialised generator.
/// </summary>
public static class DcganEvaluation
{
    public const int BatchSize = 500;
    public const long UntrainedSeed = 1;

    /// <param name="testImages">[N, 1, 32, 32] in [-1, 1]; N images are generated, with the same labels.</param>
    /// <param name="testLabels">[N] int64; generated image i asks for label i with seed i.</param>
    /// <param name="trainSubset">[M, 1, 32, 32] train images, for the floor.</param>
    public static DcganEvaluationResult Run(
        Generator generator, Classifier classifier, Tensor testImages, Tensor testLabels, Tensor trainSubset)
    {
        int samples = (int)testLabels.shape[0];
        int classes = generator.Config.NumClasses;
        if (classes != classifier.Config.NumClasses || generator.Config.Channels != classifier.Config.Channels || generator.Config.ImageSize != classifier.Config.ImageSize)
            throw new ArgumentException("the generator must be a conditional 10-class 1×32×32 model, like DcganConfig.Fashion32.");

        var testFeatures = classifier.FeaturesInBatches(testImages, BatchSize);
        IReadOnlyDictionary<string, double> realPerLabel;
        // The same classifier on the real test images, per label: the reference the generated figures compare to.
        using (var realPredicted = PredictFrom(classifier, testFeatures)) (realPerLabel, _) = LabelAccuracy(realPredicted, testLabels, classes);
        using var testStats = StatisticsOf(testFeatures);
        using var floorStats = StatisticsOf(classifier.FeaturesInBatches(trainSubset, BatchSize));
        var (features, predicted) = Generated(generator, classifier, testLabels);
        using var generatedStats = StatisticsOf(features);
        IReadOnlyDictionary<string, double> perLabel;
        double overall;
        using (predicted) (perLabel, overall) = LabelAccuracy(predicted, testLabels, classes);
        using var untrained = Untrained(generator.Config);
        var (untrainedFeatures, untrainedPredicted) = Generated(untrained, classifier, testLabels);
        untrainedPredicted.Dispose();
        using var untrainedStats = StatisticsOf(untrainedFeatures);

        return new DcganEvaluationResult(
            perLabel,
            overall,
            FrechetDistance.Between(generatedStats, testStats),
            FrechetDistance.Between(floorStats, testStats),
            FrechetDistance.Between(untrainedStats, testStats),
            samples,
            realPerLabel);
    }

    static FeatureStatistics StatisticsOf(Tensor features)
    {
        using (features) return FeatureStatistics.Of(features);
    }

    /// <summary>Generates image i with seed i and label <c>labels[i]</c>; returns its features [N, 128] and predicted labels [N].</summary>
    public static (Tensor Features, Tensor Predicted) Generated(Generator generator, Classifier classifier, Tensor labels)
    {
        generator.eval();
        classifier.eval();
        using var _ = inference_mode();
        var features = new List<Tensor>();
        var predicted = new List<Tensor>();
        using var scope = NewDisposeScope();
        long n = labels.shape[0];
        for (long start = 0; start < n; start += BatchSize)
        {
            long count = Math.Min(BatchSize, n - start);
            var seeds = Enumerable.Range(0, (int)count).Select(i => start + i).ToArray();
            var images = generator.forward(Latents.ForSeeds(seeds, generator.Config.LatentDim), labels.narrow(0, start, count));
            if (images.isnan().any().item<bool>())
                throw new InvalidOperationException($"the generator returned NaN pixels for seeds {start}..{start + count - 1}.");
            var f = classifier.Features(images);
            features.Add(f);
            predicted.Add(classifier.Logits(f).argmax(1));
        }
        return (cat(features, 0).MoveToOuterDisposeScope(), cat(predicted, 0).MoveToOuterDisposeScope());
    }

    static Tensor PredictFrom(Classifier classifier, Tensor features)
    {
        using var _ = inference_mode();
        using var logits = classifier.Logits(features);
        return logits.argmax(1);
    }

    static Generator Untrained(DcganConfig config)
    {
        manual_seed(UntrainedSeed);
        var generator = new Generator(config);
        Init.Dcgan(generator);
        return generator;
    }

    static (IReadOnlyDictionary<string, double> PerLabel, double Overall) LabelAccuracy(Tensor predicted, Tensor labels, int classes)
    {
        using var scope = NewDisposeScope();
        var hit = predicted.eq(labels);
        var perLabel = new Dictionary<string, double>();
        for (int c = 0; c < classes; c++)
        {
            var mask = labels.eq(c);
            long asked = mask.sum().item<long>();
            perLabel[FashionMnist.Labels[c]] = asked == 0 ? double.NaN : (double)hit.logical_and(mask).sum().item<long>() / asked;
        }
        return (perLabel, hit.to(ScalarType.Float64).mean().item<double>());
    }
}
