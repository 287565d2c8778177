using System.Diagnostics;
using System.Text.Json;
using GanService.Models;
using GanService.Models.Data;
using GanService.Models.Text;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>train-text-encoder</c>: trains the caption encoder for text-to-image with the image–text matching objective on
/// the emoji caption set (scripts/fetch-datasets.sh captions), then measures retrieval on held-out images and on a
/// held-out phrasing. Writes to --out: text-encoder.safetensors (the text encoder StackGAN conditions on),
/// matcher.safetensors (text and image encoders, the evaluator for generated images), encoder.json (sizes and the
/// tokenizer's vocabulary), metrics.json and training.json.
/// </summary>
public static class TrainTextEncoderCommand
{
    private static readonly JsonSerializerOptions Json = CaptionEncoderFiles.Json;

    public static int Run(CliArgs args)
    {
        string dataDir = args.String("data", ".data/datasets");
        string outDir = args.String("out", "models/emoji-text-encoder");
        long steps = args.OptionalLong("steps") ?? 3000;
        int threads = args.Int("threads", 2), logEvery = args.Int("log-every", 100);
        var options = new MatchingTrainOptions(BatchSize: args.Int("batch", 64), LearningRate: args.Double("lr", 1e-3), Seed: args.OptionalLong("seed") ?? 1);
        set_num_threads(threads);

        var catalog = EmojiCaptions.Catalog(dataDir);
        var train = catalog.Where(c => !c.HeldOut).ToList();
        var held = catalog.Where(c => c.HeldOut).ToList();
        var tokenizer = CaptionTokenizer.Build(train.SelectMany(c => c.Captions), args.Int("max-tokens", 24));
        var config = new TextEncoderConfig(tokenizer.Size, tokenizer.MaxTokens, ImageSize: args.Int("size", 64));
        Console.WriteLine($"{catalog.Count} captioned images: {train.Count} to train on, {held.Count} held out; vocabulary {tokenizer.Size} pieces");

        using var trainImages = ImageFiles.LoadOnWhite(train.Select(c => c.Path).ToList(), config.ImageSize);
        using var heldImages = ImageFiles.LoadOnWhite(held.Select(c => c.Path).ToList(), config.ImageSize);
        using var trainer = new MatchingTrainer(config, tokenizer, trainImages, train.Select(c => c.Captions).ToList(), options);
        var clock = Stopwatch.StartNew();
        var losses = new List<double>();
        double window = 0;
        while (trainer.Step < steps)
        {
            window += trainer.TrainStep();
            if (trainer.Step % logEvery == 0)
            {
                losses.Add(window / logEvery);
                Console.WriteLine($"step {trainer.Step}: loss {window / logEvery:F3} ({clock.Elapsed.TotalSeconds:F0} s)");
                window = 0;
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;

        // Retrieval: unseen images by their own first caption, unseen images by the held-out phrasing, and the
        // training images by the held-out phrasing (text the encoder never saw, about images it did).
        var heldNames = held.Select(c => c.Name).ToList();
        var trainNames = train.Select(c => c.Name).ToList();
        var metrics = new Dictionary<string, Retrieval>
        {
            ["heldOutImages"] = MatchingEvaluation.Rank(trainer.Model, tokenizer, heldImages, heldNames, held.Select((c, i) => (c.Captions[0], i)).ToList()),
            ["heldOutImagesHeldOutPhrasing"] = MatchingEvaluation.Rank(trainer.Model, tokenizer, heldImages, heldNames, held.Select((c, i) => (c.HeldOutCaption, i)).ToList()),
            ["trainingImagesHeldOutPhrasing"] = MatchingEvaluation.Rank(trainer.Model, tokenizer, trainImages, trainNames, train.Select((c, i) => (c.HeldOutCaption, i)).ToList()),
        };
        foreach (var (name, r) in metrics)
            Console.WriteLine($"{name}: {r.Queries} captions over {r.Candidates} images: precision@1 {r.PrecisionAt1:P1}, @5 {r.PrecisionAt5:P1}, " +
                              $"same emoji (any tone) @1 {r.SameEmojiAt1:P1}; chance @1 {r.ChanceAt1:P2}");

        Directory.CreateDirectory(outDir);
        Weights.Save(trainer.Model.Text, Path.Combine(outDir, "text-encoder.safetensors"));
        Weights.Save(trainer.Model, Path.Combine(outDir, "matcher.safetensors"));
        File.WriteAllText(Path.Combine(outDir, "encoder.json"), JsonSerializer.Serialize(
            new CaptionEncoderFiles.Manifest("cl100k_base (Microsoft.ML.Tokenizers 2.0.1), pieces of the training captions", config, tokenizer.Pieces), Json) + "\n");
        File.WriteAllText(Path.Combine(outDir, "metrics.json"), JsonSerializer.Serialize(metrics, Json) + "\n");
        File.WriteAllText(Path.Combine(outDir, "training.json"), JsonSerializer.Serialize(new
        {
            command = "GanService.Workers train-text-encoder " + string.Join(' ', Environment.GetCommandLineArgs().Skip(2)),
            steps = trainer.Step, options.BatchSize, options.LearningRate, options.Seed, seconds = Math.Round(seconds),
            images = new { train = train.Count, heldOut = held.Count }, lossEvery = logEvery, losses = losses.Select(l => Math.Round(l, 4)),
        }, Json) + "\n");
        Console.WriteLine($"wrote {outDir} after {trainer.Step} steps in {seconds:F0} s");
        return 0;
    }
}
