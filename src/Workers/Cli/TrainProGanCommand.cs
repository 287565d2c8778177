using System.Diagnostics;
using System.Text.Json;
using GanService.Core.Models;
using GanService.Models;
using GanService.Workers.Training;
using GanService.Models.Evaluation;
using GanService.Models.ProGan;
using TorchSharp;
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
        double minutes = args.Double("checkpoint-minutes", 5);
        int logEvery = Math.Max(1, args.Int("log-every", 20));
        set_num_threads(args.Int("threads", 2));
        var (device, deviceName) = Devices.Choose(args.String("device", "auto"));

        var clock = Stopwatch.StartNew();
        if (dataset == "fashion-mnist" && resolution != 32) throw new ArgumentException("fashion-mnist is 32×32 (28×28 padded).");
        var (images, classes) = TrainingData.Load(data, dataset, sets, resolution, limit: args.OptionalLong("limit") is { } l ? (int)l : null);
        classes.Dispose();
        int channels = (int)images.shape[1];
        Console.WriteLine($"loaded {images.shape[0]} {dataset} images{(dataset == "emoji" ? $" from {string.Join(", ", sets)}" : "")} at {resolution}×{resolution} in {clock.ElapsedMilliseconds} ms");
        using var _images = images;

        using var trainer = ProGanTrainer.LatestCheckpoint(checkpoints) is not null && !args.Flag("fresh")
            ? ProGanTrainer.Resume(checkpoints, device)
            : new ProGanTrainer(
                new ProGanConfig(FinalResolution: resolution, Channels: channels, LatentDim: args.Int("latent", 128), FmapBase: args.Int("fmap-base", 2048), FmapMax: args.Int("fmap-max", 128)),
                new ProGanTrainOptions(
                    new ProGanSchedule(
                        args.Double("stable-kimg", 30),
                        args.Double("fade-kimg", 30),
                        Progressive: !args.Flag("direct"),
                        FinalKimg: args.OptionalDouble("final-kimg")),
                    BatchSize: args.Int("batch", 16),
                    Seed: args.OptionalLong("seed") ?? 1),
                device);
        Console.WriteLine($"training on {deviceName}{(device.type == DeviceType.CUDA ? $" ({cuda.device_count()} CUDA device(s))" : $", {get_num_threads()} torch threads")}");
        if (trainer.Step > 0) Console.WriteLine($"resumed from {ProGanTrainer.LatestCheckpoint(checkpoints)} at step {trainer.Step}, {trainer.ImagesShown / 1000.0:F1} kimg");

        // The time-to-quality curve (--eval-every-seconds S): every S seconds of training, the EMA generator at its
        // current level and α, scored by ProGanCurve; the clock stops while it scores. --max-minutes stops training.
        double evalEvery = args.Double("eval-every-seconds", 0);
        double maxMinutes = args.Double("max-minutes", 0);
        ProGanCurve? curve = null;
        Classifier? curveClassifier = null;
        if (evalEvery > 0)
        {
            var (path, classifierConfig, _) = ImageModelEvaluation.ClassifierFor(dataset, args.String("models", "models"));
            curveClassifier = new Classifier(classifierConfig);
            Weights.Load(curveClassifier, path);
            curve = new ProGanCurve(curveClassifier, images, args.Int("eval-images", 1000), trainer.Config.LatentDim);
            Console.WriteLine($"curve: FD of {curve.Samples} generated vs {curve.Samples} real images every {evalEvery} s of training; real-vs-real floor {curve.Floor:F2}");
        }
        using var _curve = curve;
        using var _curveClassifier = curveClassifier;
        using var timeUp = new CancellationTokenSource();
        var run = Stopwatch.StartNew();
        double nextEval = 0;
        long evaluatedAt = -1;
        void Evaluate(int level, double alpha)
        {
            if (trainer.ImagesShown == evaluatedAt) return;
            evaluatedAt = trainer.ImagesShown;
            run.Stop();
            double fd = curve!.Score(trainer.Ema, level, alpha);
            Console.WriteLine(FormattableString.Invariant(
                $"curve: {run.Elapsed.TotalSeconds:F1} s  kimg {trainer.ImagesShown / 1000.0:F2}  {ProGanConfig.Resolution(level)}×{ProGanConfig.Resolution(level)} α {alpha:F2}  FD {fd:F2}"));
            nextEval += evalEvery;
            run.Start();
        }
        if (curve is not null)
        {
            var (level0, alpha0) = trainer.Options.Schedule.At(trainer.ImagesShown, trainer.Config.MaxLevel);
            Evaluate(level0, alpha0);
        }
        long startImages = trainer.ImagesShown;
        var lastSave = Stopwatch.StartNew();
        // One line per phase (a resolution's fade-in or its stable part): its images/s, which is what a device changes.
        (int Resolution, bool Fading, long Images, double Seconds)? phase = null;
        void EndPhase(ProGanProgress? next)
        {
            if (phase is { } ph && (next is null || next.Resolution != ph.Resolution || next.Alpha < 1 != ph.Fading))
            {
                long shown = trainer.ImagesShown - ph.Images;
                double seconds = run.Elapsed.TotalSeconds - ph.Seconds;
                if (shown > 0)
                    Console.WriteLine($"phase {ph.Resolution}×{ph.Resolution} {(ph.Fading ? "fade-in" : "stable")}: {shown / 1000.0:F1} kimg in {seconds:F1} s, {shown / seconds:F0} img/s on {deviceName}");
                phase = null;
            }
            if (phase is null && next is not null) phase = (next.Resolution, next.Alpha < 1, next.ImagesShown, run.Elapsed.TotalSeconds);
        }
        ProGanProgress? lastProgress = null;
        try
        {
        trainer.Train(images, new SyncProgress<ProGanProgress>(p =>
        {
            lastProgress = p;
            EndPhase(p);
            if (curve is not null && run.Elapsed.TotalSeconds >= nextEval) Evaluate(p.Level, p.Alpha);
            if (maxMinutes > 0 && run.Elapsed.TotalMinutes >= maxMinutes) timeUp.Cancel();
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
        }), args.OptionalLong("max-steps"), timeUp.Token);
        }
        catch (OperationCanceledException) when (timeUp.IsCancellationRequested)
        {
            Console.WriteLine($"stopped after {maxMinutes} min of training (--max-minutes)");
        }
        if (curve is not null && lastProgress is not null) Evaluate(lastProgress.Level, lastProgress.Alpha);
        EndPhase(null);
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
