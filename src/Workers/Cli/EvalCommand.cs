using System.Diagnostics;
using System.Text.Json;
using GanService.Core.Models;
using GanService.Models;
using GanService.Models.Data;
using GanService.Models.Evaluation;
using GanService.Models.ProGan;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>eval --model models/&lt;name&gt;</c>: evaluates a model folder by its model.json: a DCGAN on Fashion-MNIST the way
/// <c>eval-dcgan</c> does, a ProGAN on the emoji sets by Fréchet distance in the emoji category classifier's
/// features beside the real-vs-real floor. Writes the folder's metrics.json (the version's <c>metrics</c>).
/// </summary>
public static class EvalCommand
{
    public const string EmojiClassifierPath = "models/emoji-classifier/classifier.safetensors";

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static int Run(CliArgs args)
    {
        string modelDir = args.String("model", "models/dcgan-fashion");
        var manifest = ModelManifest.Read(Path.Combine(modelDir, "model.json"));
        set_num_threads(args.Int("threads", 2));
        switch (manifest.Family, manifest.Dataset)
        {
            case ("dcgan", "fashion-mnist"):
                return EvalDcganCommand.Run(args);
            case ("progan", "emoji"):
                var sets = args.String("sets", "google,twitter").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                EvaluateEmoji(modelDir, manifest, args.String("data", ".data/datasets"), sets,
                    args.String("classifier", EmojiClassifierPath), args.Flag("retrain-classifier"), args.Optional("out"));
                return 0;
            default:
                throw new ArgumentException($"no evaluation for family '{manifest.Family}' on dataset '{manifest.Dataset}' (known: dcgan on fashion-mnist, progan on emoji).");
        }
    }

    /// <summary>Scores the generator in <paramref name="modelDir"/> against the emoji <paramref name="sets"/> and writes metrics.json.</summary>
    public static ImageGeneratorEvaluationResult EvaluateEmoji(
        string modelDir, ModelManifest manifest, string dataRoot, IReadOnlyList<string> sets, string classifierPath, bool retrain, string? outPath = null)
    {
        var sw = Stopwatch.StartNew();
        var emojiRoot = Path.Combine(dataRoot, "emoji");
        var items = sets.SelectMany(s => Emoji.Catalog(emojiRoot, s)).ToList();
        var (images, categories) = Emoji.Load(emojiRoot, items, 64);
        using var _i = images;
        using var _c = categories;
        var (classifier, accuracy) = LoadOrTrainEmojiClassifier(classifierPath, images, categories, retrain);
        using var _cl = classifier;

        string weights = Path.Combine(modelDir, manifest.Weights);
        using var generator = IImageGenerator.Load(manifest.Family, manifest.Config.GetRawText(), weights);
        var config = manifest.Config.Deserialize<ProGanConfig>(ModelManifest.Json)!;
        manual_seed(1);
        using var untrained = new ProGanGenerator(config);
        var result = ImageGeneratorEvaluation.Run(generator, untrained, classifier, images, Emoji.Categories);

        Console.WriteLine($"{"category",-20} {"generated",9} {"real",9}");
        foreach (var c in Emoji.Categories) Console.WriteLine($"{c,-20} {result.CategoryShare[c],9:P1} {result.CategoryShareReal[c],9:P1}");
        Console.WriteLine($"category mix, total variation     {result.CategoryTotalVariation,8:F3}");
        Console.WriteLine($"Fréchet distance ({result.Samples} samples)  {result.FrechetDistance,8:F3}");
        Console.WriteLine($"  floor (real half vs real half)  {result.FrechetDistanceFloor,8:F3}");
        Console.WriteLine($"  untrained generator             {result.FrechetDistanceUntrained,8:F3}");

        var metrics = new
        {
            dataset = "emoji",
            sets,
            classifierHeldOutAccuracy = accuracy,
            frechetDistance = result.FrechetDistance,
            frechetDistanceFloor = result.FrechetDistanceFloor,
            frechetDistanceUntrained = result.FrechetDistanceUntrained,
            samples = result.Samples,
            categoryShare = result.CategoryShare,
            categoryShareReal = result.CategoryShareReal,
            categoryTotalVariation = result.CategoryTotalVariation,
            evaluatedAt = DateTimeOffset.UtcNow,
            generatorSha256 = Weights.Sha256(weights),
            classifierSha256 = Weights.Sha256(classifierPath),
        };
        outPath ??= Path.Combine(modelDir, "metrics.json");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        File.WriteAllText(outPath, JsonSerializer.Serialize(metrics, Json) + "\n");
        Console.WriteLine($"wrote {outPath} in {sw.Elapsed.TotalSeconds:F0} s");
        return result;
    }

    /// <summary>
    /// The emoji category classifier: loaded, or trained on a seeded 90 % of the images (mirror-augmented) and saved.
    /// Returns it with its accuracy on the other 10 % (the same split either way).
    /// </summary>
    static (Classifier Model, double HeldOutAccuracy) LoadOrTrainEmojiClassifier(string path, Tensor images, Tensor categories, bool retrain)
    {
        long n = images.shape[0], held = n / 10;
        using var perm = randperm(n, generator: new TorchSharp.torch.Generator(7));
        using var heldIdx = perm.narrow(0, 0, held);
        using var trainIdx = perm.narrow(0, held, n - held);
        using var heldImages = images.index_select(0, heldIdx);
        using var heldLabels = categories.index_select(0, heldIdx);
        if (File.Exists(path) && !retrain)
        {
            var loaded = new Classifier(ClassifierConfig.Emoji64);
            Weights.Load(loaded, path);
            return (loaded, ClassifierTrainer.Accuracy(loaded, heldImages, heldLabels));
        }
        var sw = Stopwatch.StartNew();
        using var trainImages = images.index_select(0, trainIdx);
        using var trainLabels = categories.index_select(0, trainIdx);
        using var trainer = new ClassifierTrainer(new ClassifierTrainOptions(Epochs: 6, BatchSize: 64, LearningRateDecay: 0.7,
            Config: ClassifierConfig.Emoji64, FlipAugment: true));
        trainer.Train(trainImages, trainLabels, new SyncProgress<ClassifierProgress>(p =>
        {
            if (p.Step % 50 == 0 || p.Step == p.TotalSteps)
                Console.WriteLine($"emoji classifier step {p.Step}/{p.TotalSteps} epoch {p.Epoch} loss {p.Loss:F3}");
        }));
        double accuracy = ClassifierTrainer.Accuracy(trainer.Model, heldImages, heldLabels);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string sha = Weights.Save(trainer.Model, path);
        Console.WriteLine($"trained the emoji classifier in {sw.Elapsed.TotalMinutes:F1} min, held-out accuracy {accuracy:P2}, saved {path} sha256 {sha}");
        var classifier = new Classifier(ClassifierConfig.Emoji64);
        Weights.Load(classifier, path);
        return (classifier, accuracy);
    }
}
