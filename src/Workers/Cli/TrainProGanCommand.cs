using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GanService.Core.Models;
using GanService.Models;
using GanService.Workers.Training;
using GanService.Models.ProGan;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>train-progan</c>: a Progressive GAN on the emoji sets (scripts/fetch-datasets.sh emoji), with a progress line
/// (resolution, α, kimg, images/s, losses, ETA), checkpoints every few minutes, and resume from the latest checkpoint
/// (the default when one exists; <c>--fresh</c> starts over). At the end the EMA generator goes to <c>--out</c>.
/// </summary>
public static class TrainProGanCommand
{
    public static int Run(CliArgs args)
    {
        string dataset = args.String("dataset", "emoji");
        string data = args.String("data", ".data/datasets");
        var sets = args.String("sets", "google").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int resolution = args.Int("resolution", dataset == "fashion-mnist" ? 32 : 64);
        string checkpoints = args.String("checkpoints", $".data/checkpoints/progan-{dataset}-{resolution}{(args.Flag("direct") ? "-direct" : "")}");
        string outDir = args.String("out", "models/progan-emoji");
        double minutes = double.Parse(args.String("checkpoint-minutes", "5"), CultureInfo.InvariantCulture);
        int logEvery = Math.Max(1, args.Int("log-every", 20));
        set_num_threads(args.Int("threads", 2));

        var clock = Stopwatch.StartNew();
        if (dataset == "fashion-mnist" && resolution != 32) throw new ArgumentException("fashion-mnist is 32×32 (28×28 padded).");
        var (images, classes) = TrainingData.Load(data, dataset, sets, resolution, limit: args.OptionalLong("limit") is { } l ? (int)l : null);
        classes.Dispose();
        int channels = (int)images.shape[1];
        Console.WriteLine($"loaded {images.shape[0]} {dataset} images{(dataset == "emoji" ? $" from {string.Join(", ", sets)}" : "")} at {resolution}×{resolution} in {clock.ElapsedMilliseconds} ms");
        using var _images = images;

        using var trainer = ProGanTrainer.LatestCheckpoint(checkpoints) is not null && !args.Flag("fresh")
            ? ProGanTrainer.Resume(checkpoints)
            : new ProGanTrainer(
                new ProGanConfig(FinalResolution: resolution, Channels: channels, LatentDim: args.Int("latent", 128), FmapBase: args.Int("fmap-base", 2048), FmapMax: args.Int("fmap-max", 128)),
                new ProGanTrainOptions(
                    new ProGanSchedule(
                        double.Parse(args.String("stable-kimg", "30"), CultureInfo.InvariantCulture),
                        double.Parse(args.String("fade-kimg", "30"), CultureInfo.InvariantCulture),
                        Progressive: !args.Flag("direct")),
                    BatchSize: args.Int("batch", 16),
                    Seed: args.OptionalLong("seed") ?? 1));
        if (trainer.Step > 0) Console.WriteLine($"resumed from {ProGanTrainer.LatestCheckpoint(checkpoints)} at step {trainer.Step}, {trainer.ImagesShown / 1000.0:F1} kimg");

        var run = Stopwatch.StartNew();
        long startImages = trainer.ImagesShown;
        var lastSave = Stopwatch.StartNew();
        trainer.Train(images, new SyncProgress<ProGanProgress>(p =>
        {
            if (p.Step % logEvery == 0 || p.ImagesShown >= p.TotalImages)
            {
                double ips = (p.ImagesShown - startImages) / Math.Max(run.Elapsed.TotalSeconds, 1e-9);
                var eta = TimeSpan.FromSeconds((p.TotalImages - p.ImagesShown) / Math.Max(ips, 1e-9));
                Console.WriteLine($"[{Bar(p.Fraction)}] step {p.Step} {p.Resolution,3}×{p.Resolution,-3} α {p.Alpha:F3}  kimg {p.ImagesShown / 1000.0,7:F1}/{p.TotalImages / 1000.0:F0}" +
                                  $"  {ips,5:F0} img/s  lossD {p.LossD,7:F3}  lossG {p.LossG,7:F3}  gp {p.Penalty:F3}  ETA {eta:hh\\:mm\\:ss}" +
                                  (p.SkippedSteps > 0 ? $"  skipped {p.SkippedSteps}" : ""));
            }
            if (lastSave.Elapsed.TotalMinutes >= minutes)
            {
                trainer.SaveCheckpoint(checkpoints);
                lastSave.Restart();
            }
        }), args.OptionalLong("max-steps"));
        trainer.SaveCheckpoint(checkpoints);
        if (!trainer.Done)
        {
            Console.WriteLine($"stopped at step {trainer.Step} ({trainer.ImagesShown / 1000.0:F1} kimg); run again to resume");
            return 0;
        }
        var sha = Weights.Save(trainer.Ema, Path.Combine(outDir, "generator.safetensors"));
        Console.WriteLine($"saved the EMA generator to {outDir} (sha256 {sha}) after {clock.Elapsed.TotalMinutes:F1} min");
        var manifest = WriteManifest(outDir, dataset, sets, trainer, string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
        if (!args.Flag("no-eval")) EvalCommand.Evaluate(outDir, manifest, data, sets, args.String("models", "models"), null, Console.Out);
        return 0;
    }

    /// <summary>The model.json that makes <paramref name="outDir"/> a model folder ./run.sh registers (family progan).</summary>
    private static ModelManifest WriteManifest(string outDir, string dataset, IReadOnlyList<string> sets, ProGanTrainer trainer, string commandLine)
    {
        var name = Path.GetFileName(Path.GetFullPath(outDir).TrimEnd('/'));
        var config = JsonSerializer.SerializeToElement(trainer.Config, ModelManifest.Json);
        var manifest = new ModelManifest(
            Name: name,
            Kind: "generation",
            Family: "progan",
            IsDefault: false,
            Resolution: trainer.Config.FinalResolution,
            Labels: null,
            Description: $"Progressive GAN trained by GanService on {dataset} ({string.Join(", ", sets)}), {trainer.Config.FinalResolution}×{trainer.Config.FinalResolution}, " +
                         $"{trainer.ImagesShown / 1000.0:F0} kimg, EMA generator.",
            Weights: "generator.safetensors",
            Config: config,
            Dataset: dataset,
            TrainCommand: $"dotnet artifacts/bin/GanService.Workers/release/GanService.Workers.dll {commandLine}");
        File.WriteAllText(Path.Combine(outDir, "model.json"), JsonSerializer.Serialize(manifest, ModelManifest.Json) + "\n");
        return manifest;
    }

    private static string Bar(double fraction)
    {
        int filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * 20);
        return new string('#', filled) + new string('.', 20 - filled);
    }
}
