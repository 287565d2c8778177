using GanService.Models.Data;
using GanService.Models;
using GanService.Models.Evaluation;
using static TorchSharp.torch;

namespace GanService.Workers.Training;

/// <summary>
/// Scores an unconditional image generator on its dataset: Fréchet distance in the dataset classifier's features
/// (models/emoji-classifier, models/fashion-classifier) beside the real-vs-real floor and an untrained generator of
/// the same config. The result is the model version's <c>metrics</c> JSON.
/// </summary>
public static class ImageModelEvaluation
{
    /// <summary>Real images compared with at most (half of them are the reference, as many are generated).</summary>
    public const int MaxRealImages = 10_000;

    public sealed record Outcome(ImageGeneratorEvaluationResult Result, double ClassifierAccuracy, string ClassifierPath, IReadOnlyList<string> Classes);

    /// <summary>The classifier a dataset's generators are scored with, and its config.</summary>
    public static (string Path, ClassifierConfig Config, IReadOnlyList<string> Classes) ClassifierFor(string dataset, string modelsRoot) => dataset switch
    {
        DatasetCatalog.Emoji => (Path.Combine(modelsRoot, "emoji-classifier", "classifier.safetensors"), ClassifierConfig.Emoji64, Emoji.Categories),
        DatasetCatalog.FashionMnist => (Path.Combine(modelsRoot, "fashion-classifier", "classifier.safetensors"), ClassifierConfig.Fashion, FashionMnist.Labels),
        _ => throw new ArgumentException($"no classifier for dataset '{dataset}'."),
    };

    /// <summary>Why <paramref name="generator"/> cannot be scored on <paramref name="dataset"/>, or null when it can.</summary>
    public static string? Unsupported(IImageGenerator generator, string dataset, string modelsRoot)
    {
        var (path, config, _) = ClassifierFor(dataset, modelsRoot);
        if (!File.Exists(path)) return $"the {dataset} classifier ({path}) is missing";
        if (generator.ImageSize != config.ImageSize || generator.Channels != config.Channels)
            return $"the {dataset} classifier takes {config.Channels}×{config.ImageSize}² images, the generator makes {generator.Channels}×{generator.ImageSize}²";
        return null;
    }

    /// <param name="real">The real images to compare with, at the generator's resolution.</param>
    /// <param name="heldOut">Images and classes the classifier was not trained on, for its accuracy.</param>
    public static Outcome Run(IImageGenerator generator, IImageGenerator untrained, string dataset, string modelsRoot, Tensor real, (Tensor Images, Tensor Classes) heldOut)
    {
        var (path, config, classes) = ClassifierFor(dataset, modelsRoot);
        using var classifier = new Classifier(config);
        Weights.Load(classifier, path);
        double accuracy = ClassifierTrainer.Accuracy(classifier, heldOut.Images, heldOut.Classes);
        var result = ImageGeneratorEvaluation.Run(generator, untrained, classifier, real, classes);
        return new Outcome(result, accuracy, path, classes);
    }

    /// <summary>
    /// The seeded 10 % of the emoji images the emoji classifier is not trained on (the rest is its training data),
    /// as indices: (held out, train).
    /// </summary>
    public static (Tensor HeldOut, Tensor Train) EmojiSplit(long count)
    {
        long held = count / 10;
        using var perm = randperm(count, generator: new TorchSharp.torch.Generator(7));
        return (perm.narrow(0, 0, held).clone(), perm.narrow(0, held, count - held).clone());
    }

    /// <summary>Images the dataset's classifier was not trained on: the emoji split's 10 %, or Fashion-MNIST's test set.</summary>
    public static (Tensor Images, Tensor Classes) HeldOut(string dataset, string dataRoot, Tensor images, Tensor classes)
    {
        if (dataset == DatasetCatalog.FashionMnist) return TrainingData.Load(dataRoot, dataset, [], 32, train: false);
        var (held, train) = EmojiSplit(images.shape[0]);
        using (held)
        using (train)
            return (images.index_select(0, held), classes.index_select(0, held));
    }

    /// <summary>The metrics JSON object for a version.</summary>
    public static object Metrics(Outcome o, string dataset, IReadOnlyList<string> sets, string generatorSha256) => new
    {
        dataset,
        sets,
        classifierHeldOutAccuracy = o.ClassifierAccuracy,
        frechetDistance = o.Result.FrechetDistance,
        frechetDistanceFloor = o.Result.FrechetDistanceFloor,
        frechetDistanceUntrained = o.Result.FrechetDistanceUntrained,
        samples = o.Result.Samples,
        categoryShare = o.Result.CategoryShare,
        categoryShareReal = o.Result.CategoryShareReal,
        categoryTotalVariation = o.Result.CategoryTotalVariation,
        evaluatedAt = DateTimeOffset.UtcNow,
        generatorSha256,
        classifierSha256 = Weights.Sha256(o.ClassifierPath),
    };
}
