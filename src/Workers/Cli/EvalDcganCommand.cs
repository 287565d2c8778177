using System.Diagnostics;
using System.Text.Json;
using GanService.Models;
using GanService.Models.Data;
using GanService.Models.Dcgan;
using GanService.Models.Evaluation;
using static TorchSharp.torch;
using Generator = GanService.Models.Dcgan.Generator;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>eval-dcgan</c>: label accuracy and Fréchet distance (in the Fashion-MNIST classifier's features) of a trained
/// Fashion32 generator; trains and saves the classifier first if it is missing.
/// </summary>
public static class EvalDcganCommand
{
    const int FloorSamples = 10_000;

    public static int Run(CliArgs args)
    {
        string dataDir = Path.Combine(args.String("data", ".data/datasets"), "fashion-mnist");
        string modelDir = args.String("model", "models/dcgan-fashion");
        string classifierPath = args.String("classifier", "models/fashion-classifier/classifier.safetensors");
        string outPath = args.String("out", Path.Combine(modelDir, "metrics.json"));
        set_num_threads(args.Int("threads", 2));
        var sw = Stopwatch.StartNew();

        var (testImages, testLabels) = FashionMnist.Load(dataDir, train: false);
        using var classifier = LoadOrTrainClassifier(classifierPath, dataDir, args.Flag("retrain-classifier"), testImages, testLabels);
        double classifierAccuracy = ClassifierTrainer.Accuracy(classifier, testImages, testLabels);
        Console.WriteLine($"classifier test accuracy {classifierAccuracy:P2}");

        using var generator = new Generator(DcganConfig.Fashion32);
        string generatorPath = Path.Combine(modelDir, "generator.safetensors");
        Weights.Load(generator, generatorPath);
        var (trainSubset, _) = FashionMnist.Load(dataDir, train: true, limit: FloorSamples);
        var result = DcganEvaluation.Run(generator, classifier, testImages, testLabels, trainSubset);

        Console.WriteLine($"{"label",-12} {"generated",9} {"real test",9}");
        foreach (var (label, accuracy) in result.LabelAccuracy)
            Console.WriteLine($"{label,-12} {accuracy,9:P1} {result.RealLabelAccuracy[label],9:P1}");
        Console.WriteLine($"{"overall",-12} {result.LabelAccuracyOverall,9:P1}");
        Console.WriteLine($"Fréchet distance ({result.Samples} samples)  {result.FrechetDistance,8:F3}");
        Console.WriteLine($"  floor (train vs test)          {result.FrechetDistanceFloor,8:F3}");
        Console.WriteLine($"  untrained generator            {result.FrechetDistanceUntrained,8:F3}");

        var metrics = new
        {
            classifierTestAccuracy = classifierAccuracy,
            labelAccuracy = result.LabelAccuracy,
            labelAccuracyOverall = result.LabelAccuracyOverall,
            labelAccuracyReal = result.RealLabelAccuracy,
            frechetDistance = result.FrechetDistance,
            frechetDistanceFloor = result.FrechetDistanceFloor,
            frechetDistanceUntrained = result.FrechetDistanceUntrained,
            samples = result.Samples,
            evaluatedAt = DateTimeOffset.UtcNow,
            generatorSha256 = Weights.Sha256(generatorPath),
            classifierSha256 = Weights.Sha256(classifierPath),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        File.WriteAllText(outPath, JsonSerializer.Serialize(metrics, EvalCommand.Json) + "\n");
        Console.WriteLine($"wrote {outPath} in {sw.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    static Classifier LoadOrTrainClassifier(string path, string dataDir, bool retrain, Tensor testImages, Tensor testLabels)
    {
        if (File.Exists(path) && !retrain)
        {
            var loaded = new Classifier();
            Weights.Load(loaded, path);
            return loaded;
        }
        var sw = Stopwatch.StartNew();
        var (images, labels) = FashionMnist.Load(dataDir, train: true);
        using var trainer = new ClassifierTrainer(new ClassifierTrainOptions());
        trainer.Train(images, labels, new SyncProgress<ClassifierProgress>(p =>
        {
            if (p.Step % 100 == 0 || p.Step == p.TotalSteps)
                Console.WriteLine($"classifier step {p.Step}/{p.TotalSteps} epoch {p.Epoch} loss {p.Loss:F3}");
        }));
        images.Dispose();
        labels.Dispose();
        double accuracy = ClassifierTrainer.Accuracy(trainer.Model, testImages, testLabels);
        string sha = Weights.Save(trainer.Model, path);
        Console.WriteLine($"trained classifier in {sw.Elapsed.TotalMinutes:F1} min, test accuracy {accuracy:P2}, saved {path} sha256 {sha}");
        var classifier = new Classifier();
        Weights.Load(classifier, path);
        return classifier;
    }
}
