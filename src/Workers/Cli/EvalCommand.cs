using System.Diagnostics;
using System.Text.Json;
using GanService.Core.Models;
using GanService.Models;
using GanService.Models.Evaluation;
using GanService.Models.ProGan;
using GanService.Workers.Training;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>eval --model models/&lt;name&gt;</c>: evaluates a model folder by its model.json: a DCGAN on Fashion-MNIST the way
/// <c>eval-dcgan</c> does, a ProGAN by Fréchet distance in its dataset classifier's features beside the
/// real-vs-real floor (<see cref="ImageModelEvaluation"/>). Writes the folder's metrics.json (the version's <c>metrics</c>).
/// </summary>
public static class EvalCommand
{
    /// <summary>How the eval commands write metrics.json (eval-dcgan too).</summary>
    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, Encoder = ModelManifest.Json.Encoder };

    public static int Run(CliArgs args)
    {
        string modelDir = args.String("model", "models/dcgan-fashion");
        var manifest = ModelManifest.Read(Path.Combine(modelDir, "model.json"));
        set_num_threads(args.Int("threads", 2));
        if (manifest.Family == "dcgan") return EvalDcganCommand.Run(args);
        if (manifest.Family != "progan" || manifest.Dataset is null || !DatasetCatalog.Names.Contains(manifest.Dataset))
            throw new ArgumentException($"no evaluation for family '{manifest.Family}' on dataset '{manifest.Dataset}' (known: dcgan on fashion-mnist, progan on {string.Join(" or ", DatasetCatalog.Names)}).");
        var sets = args.String("sets", "google,twitter").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (args.Flag("retrain-classifier") && manifest.Dataset == DatasetCatalog.Emoji)
            TrainEmojiClassifier(args.String("data", ".data/datasets"), sets, args.String("models", "models"));
        Evaluate(modelDir, manifest, args.String("data", ".data/datasets"), sets, args.String("models", "models"), args.Optional("out"), Console.Out);
        return 0;
    }

    /// <summary>Scores the generator in <paramref name="modelDir"/> on its dataset and writes metrics.json; null when it cannot be scored.</summary>
    /// <param name="realImages">At most this many real images (half reference, half floor; as many generated).</param>
    public static string? Evaluate(string modelDir, ModelManifest manifest, string dataRoot, IReadOnlyList<string> sets, string modelsRoot, string? outPath, TextWriter log,
        int realImages = ImageModelEvaluation.MaxRealImages)
    {
        var sw = Stopwatch.StartNew();
        string dataset = manifest.Dataset!;
        string weights = Path.Combine(modelDir, manifest.Weights);
        using var generator = IImageGenerator.Load(manifest.Family, manifest.Config.GetRawText(), weights);
        if (ImageModelEvaluation.Unsupported(generator, dataset, modelsRoot) is { } why)
        {
            log.WriteLine($"not evaluated: {why}");
            return null;
        }
        var (images, classes) = TrainingData.Load(dataRoot, dataset, sets, generator.ImageSize, limit: realImages);
        using var _i = images;
        using var _c = classes;
        var heldOut = ImageModelEvaluation.HeldOut(dataset, dataRoot, images, classes);
        using var _h = heldOut.Images;
        using var _hc = heldOut.Classes;
        manual_seed(1);
        using var untrained = new ProGanGenerator(manifest.Config.Deserialize<ProGanConfig>(ModelManifest.Json)!);
        var outcome = ImageModelEvaluation.Run(generator, untrained, dataset, modelsRoot, images, heldOut);
        var result = outcome.Result;

        log.WriteLine($"{"class",-20} {"generated",9} {"real",9}");
        foreach (var c in outcome.Classes) log.WriteLine($"{c,-20} {result.CategoryShare[c],9:P1} {result.CategoryShareReal[c],9:P1}");
        log.WriteLine($"class mix, total variation        {result.CategoryTotalVariation,8:F3}");
        log.WriteLine($"Fréchet distance ({result.Samples} samples)  {result.FrechetDistance,8:F3}");
        log.WriteLine($"  floor (real half vs real half)  {result.FrechetDistanceFloor,8:F3}");
        log.WriteLine($"  untrained generator             {result.FrechetDistanceUntrained,8:F3}");
        log.WriteLine($"  classifier held-out accuracy    {outcome.ClassifierAccuracy,8:P2}");

        var json = JsonSerializer.Serialize(ImageModelEvaluation.Metrics(outcome, dataset, sets, Weights.Sha256(weights)), Json) + "\n";
        outPath ??= Path.Combine(modelDir, "metrics.json");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        File.WriteAllText(outPath, json);
        log.WriteLine($"wrote {outPath} in {sw.Elapsed.TotalSeconds:F0} s");
        return json;
    }

    /// <summary>Trains the emoji category classifier on the 90 % of <see cref="ImageModelEvaluation.EmojiSplit"/>, mirror-augmented, and saves it.</summary>
    static void TrainEmojiClassifier(string dataRoot, IReadOnlyList<string> sets, string modelsRoot)
    {
        var sw = Stopwatch.StartNew();
        var (path, config, _) = ImageModelEvaluation.ClassifierFor(DatasetCatalog.Emoji, modelsRoot);
        var (images, classes) = TrainingData.Load(dataRoot, DatasetCatalog.Emoji, sets, 64);
        using var _i = images;
        using var _c = classes;
        var (held, train) = ImageModelEvaluation.EmojiSplit(images.shape[0]);
        using var _h = held;
        using var _t = train;
        using var trainImages = images.index_select(0, train);
        using var trainClasses = classes.index_select(0, train);
        using var trainer = new ClassifierTrainer(new ClassifierTrainOptions(Epochs: 6, BatchSize: 64, LearningRateDecay: 0.7, Config: config, FlipAugment: true));
        trainer.Train(trainImages, trainClasses, new SyncProgress<ClassifierProgress>(p =>
        {
            if (p.Step % 50 == 0 || p.Step == p.TotalSteps)
                Console.WriteLine($"emoji classifier step {p.Step}/{p.TotalSteps} epoch {p.Epoch} loss {p.Loss:F3}");
        }));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string sha = Weights.Save(trainer.Model, path);
        Console.WriteLine($"trained the emoji classifier in {sw.Elapsed.TotalMinutes:F1} min, saved {path} sha256 {sha}");
    }
}
