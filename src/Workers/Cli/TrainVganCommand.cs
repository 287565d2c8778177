using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using GanService.Core.Models;
using GanService.Models;
using GanService.Models.Data;
using GanService.Models.Dcgan;
using GanService.Models.Training;
using GanService.Models.VideoGan;
using GanService.Workers.Inference;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>train-vgan</c>: trains the two-stream video GAN on Moving Fashion clips (<see cref="MovingFashion"/>, drawn fresh
/// at every step from the Fashion-MNIST training split) and writes vgan.safetensors (the EMA of G's weights with its
/// BatchNorm statistics recomputed, <see cref="VideoGanTrainer.Shipped"/>), model.json (kind video),
/// training.json and samples.png to --out, also every --save-every steps; checkpoints for an exact resume.
/// With <c>--select-every N</c> it measures that generator on the validation clips every N steps and at the end
/// (<see cref="VganValidation"/>, --select-clips of them) and --out holds the best so far instead of the latest; the
/// best step and its distance are kept in the checkpoints (selection.json), so a resumed run chooses as an
/// uninterrupted one would.
/// </summary>
public static class TrainVganCommand
{
    public static int Run(CliArgs args)
    {
        string dataDir = args.String("data", ".data/datasets/fashion-mnist");
        string outDir = args.String("out", "models/vgan-moving-fashion");
        string checkpoints = args.String("checkpoints", ".data/checkpoints/vgan-moving-fashion");
        long steps = args.OptionalLong("steps") ?? 8000;
        int batch = args.Int("batch", 32), threads = args.Int("threads", 2), logEvery = args.Int("log-every", 50), saveEvery = args.Int("save-every", 500);
        double maxMinutes = args.OptionalDouble("max-minutes") ?? double.PositiveInfinity;
        var config = VideoGanConfig.Clips32 with
        {
            Frames = args.Int("frames", VideoGanConfig.Clips32.Frames),
            ImageSize = args.Int("size", VideoGanConfig.Clips32.ImageSize),
            Ngf = args.Int("ngf", VideoGanConfig.Clips32.Ngf),
            Ndf = args.Int("ndf", VideoGanConfig.Clips32.Ndf),
            MaskSparsity = args.Double("mask-l1", VideoGanConfig.Clips32.MaskSparsity),
        };
        var options = new VideoGanTrainOptions(BatchSize: batch, LearningRate: args.Double("lr", 2e-4), Seed: args.OptionalLong("seed") ?? 1,
            DiscriminatorLearningRate: args.OptionalDouble("lr-d"), RealLabel: args.Double("real-label", 1.0),
            MaskInitBias: args.OptionalDouble("mask-bias"), R1: args.Double("r1", 0), R1Every: args.Int("r1-every", 4),
            EmaBeta: args.Double("ema", 0.999));
        var (device, deviceName) = Devices.Choose(args.String("device", "cpu"));
        if (device.type == DeviceType.CPU) set_num_threads(threads);

        var (items, labels) = FashionMnist.Load(dataDir, train: true);
        var data = new MovingFashion(items, labels, config.Frames, config.ImageSize);
        items.Dispose();
        labels.Dispose();
        int retries = args.Int("retries", 5), crashes = 0;
        int selectEvery = args.Int("select-every", 0), selectClips = args.Int("select-clips", 500);
        if (selectEvery < 0) throw new ArgumentException($"--select-every is 0 (off) or a number of steps, got {selectEvery}.");
        var trainer = (args.Flag("fresh") ? null : VideoGanTrainer.Resume(checkpoints, device)) ?? new VideoGanTrainer(config, options, device);
        // Like the trainer's settings, a run's selection settings are its checkpoint's: a resumed run keeps choosing
        // as it began, with distances measured the same way.
        var best = trainer.Step > 0 ? Selection.Read(checkpoints) : null;
        if (trainer.Step == 0) Selection.Clear(checkpoints);
        if (best is null && selectEvery > 0) (best = new Selection(selectEvery, selectClips)).Write(checkpoints);
        using var validation = best is null ? null
            : new VganValidation(args.String("classifier", "models/moving-fashion-classifier"), dataDir, trainer.Config, best.Clips);
        try
        {
            if (trainer.Step > 0) Console.WriteLine($"resumed from {Checkpoints.Latest(checkpoints)} at step {trainer.Step}" +
                                                    (best?.Step is { } s ? $"; best so far step {s}, validation FD {best.Frechet:F2}" : ""));
            // A run that may retry needs a checkpoint of its own to retry from, even before its first save.
            else trainer.SaveCheckpoint(checkpoints);
            if (best is not null)
                Console.WriteLine($"choosing what ships by validation FD every {best.Every} steps over {best.Clips} clips" +
                                  (selectEvery != best.Every || selectClips != best.Clips ? " (the checkpoint's settings, not the command line's)" : ""));
            Console.WriteLine($"training {trainer.Config.Frames}×{trainer.Config.ImageSize}² on {deviceName}" +
                              $"{(device.type == DeviceType.CPU ? $", {get_num_threads()} torch threads" : "")}, batch {trainer.Options.BatchSize}, {data.Items} items");
            var clock = Stopwatch.StartNew();
            long startStep = trainer.Step;
            while (trainer.Step < steps && clock.Elapsed.TotalMinutes < maxMinutes)
            {
                try
                {
                    using var scope = NewDisposeScope();
                    // Step k's clips are numbers k·batch .. k·batch+batch−1 of the seed's endless stream.
                    var (clips, _, _) = data.Clips(trainer.Options.Seed, trainer.Options.BatchSize, checked((int)(trainer.Step * trainer.Options.BatchSize)));
                    var p = trainer.TrainStep(clips);
                    if (p.Step % logEvery == 0)
                        Console.WriteLine($"step {p.Step}/{steps} D {p.LossD:F3} G {p.LossG:F3} mask {p.MaskMean:F3} D(real)>0 {p.RealAccuracy:P0}{(p.RealGradientSquared is { } g2 ? $" |∇D(real)|² {g2:F3}" : "")} skipped {p.SkippedUpdates} " +
                                          $"{(p.Step - startStep) * trainer.Options.BatchSize / clock.Elapsed.TotalSeconds:F1} clips/s {clock.Elapsed.TotalMinutes:F1} min");
                    // Both inside the retry: Shipped() runs BatchNorm in train mode too. The measure comes before the
                    // checkpoint, so a run that fails or dies while measuring step k resumes before k and measures it.
                    if (validation is not null && trainer.Step % best!.Every == 0) best = Select(trainer, validation, best, checkpoints, outDir, data);
                    if (trainer.Step % saveEvery == 0)
                    {
                        trainer.SaveCheckpoint(checkpoints);
                        if (validation is null) Save(trainer, outDir, data, null);
                    }
                }
                catch (ExternalException e) when (crashes < retries)
                {
                    // A libtorch call can fail on a Scalar that TorchSharp freed during the call (6 times in ~18,600 CPU steps with
                    // the background GC on, always BatchNorm's num_batches_tracked.add_(1): "Expected false to be true", "Unknown
                    // scalar type"; README, Notes for developers). The worker now runs without the background GC, which removes
                    // the GCs that caused it here; should one still happen, the step's state is suspect, so the run continues from
                    // its latest checkpoint, as the service's training jobs do. Steps draw their clips and z from the step number,
                    // so the run is the same as one without the error.
                    crashes++;
                    Console.WriteLine($"libtorch error in step {trainer.Step + 1}: {e.Message.Split('\n')[0]}; resuming from the latest checkpoint ({crashes}/{retries})");
                    trainer.Dispose();
                    trainer = VideoGanTrainer.Resume(checkpoints, device) ?? throw new InvalidOperationException("no checkpoint to resume from", e);
                    Console.WriteLine($"resumed at step {trainer.Step}");
                }
            }
            if (validation is not null)
            {
                if (trainer.Step % best!.Every != 0 || best.Step is null) best = Select(trainer, validation, best, checkpoints, outDir, data);
                Console.WriteLine($"shipped step {best.Step}, validation FD {best.Frechet:F2} over {best.Clips} clips");
            }
            trainer.SaveCheckpoint(checkpoints);
            if (validation is null) Save(trainer, outDir, data, null);
            Console.WriteLine($"saved to {outDir} after {trainer.Step} steps ({trainer.Step - startStep} this run, {clock.Elapsed.TotalMinutes:F1} min" +
                              $"{(crashes > 0 ? $", {crashes} libtorch errors retried" : "")})");
            return 0;
        }
        finally
        {
            trainer.Dispose();
        }
    }

    /// <summary>
    /// A selecting run's settings (every how many steps, over how many clips) and, once measured, the step and
    /// validation distance of the generator --out holds.
    /// </summary>
    public sealed record Selection(int Every, int Clips, long? Step = null, double? Frechet = null)
    {
        private static string PathIn(string checkpoints) => System.IO.Path.Combine(checkpoints, "selection.json");

        public static Selection? Read(string checkpoints) =>
            File.Exists(PathIn(checkpoints)) ? JsonSerializer.Deserialize<Selection>(File.ReadAllText(PathIn(checkpoints)), ModelManifest.Json) : null;

        public void Write(string checkpoints)
        {
            Directory.CreateDirectory(checkpoints);
            Checkpoints.WriteAtomically(PathIn(checkpoints), JsonSerializer.Serialize(this, ModelManifest.Json) + "\n");
        }

        public static void Clear(string checkpoints) { if (File.Exists(PathIn(checkpoints))) File.Delete(PathIn(checkpoints)); }
    }

    /// <summary>
    /// Measures the generator the trainer would ship now; if it beats <paramref name="best"/>, writes it to --out and
    /// then records it. The caller checkpoints this step only after, so a crash in between resumes before the step,
    /// measures it again and, finding it still better than the record, writes it again.
    /// </summary>
    private static Selection Select(VideoGanTrainer trainer, VganValidation validation, Selection best, string checkpoints, string outDir, MovingFashion data)
    {
        using var scope = NewDisposeScope();
        using var shipped = trainer.Shipped();
        double fd = validation.Distance(shipped);
        bool better = best.Frechet is not { } record || fd < record;
        Console.WriteLine($"step {trainer.Step}: validation FD {fd:F2}" + (best.Step is null ? "" : $" (best {best.Frechet:F2} at step {best.Step})") + (better ? ", shipped" : ""));
        if (!better) return best;
        var selected = best with { Step = trainer.Step, Frechet = fd };
        Save(trainer, outDir, data, selected, shipped);
        selected.Write(checkpoints);
        return selected;
    }

    private static void Save(VideoGanTrainer trainer, string outDir, MovingFashion data, Selection? selection, VideoGanGenerator? generator = null)
    {
        Directory.CreateDirectory(outDir);
        using var owned = generator is null ? trainer.Shipped() : null;
        var shipped = generator ?? owned!;
        var sha = Weights.Save(shipped, Path.Combine(outDir, "vgan.safetensors"));
        string command = "dotnet artifacts/bin/GanService.Workers/release/GanService.Workers.dll " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
        var c = trainer.Config;
        var manifest = new ModelManifest(
            Name: Path.GetFileName(Path.GetFullPath(outDir).TrimEnd('/')),
            Kind: "video",
            Family: "vgan",
            IsDefault: true,
            Resolution: c.ImageSize,
            Labels: null,
            Description: $"Two-stream video GAN (Vondrick, Pirsiavash, Torralba 2016) trained by GanService on Moving Fashion: " +
                         $"Fashion-MNIST items bouncing over static textured backgrounds, {c.Frames} frames of {c.ImageSize}×{c.ImageSize}.",
            Weights: "vgan.safetensors",
            Config: JsonSerializer.SerializeToElement(c, ModelManifest.Json),
            Dataset: "moving-fashion",
            TrainCommand: command);
        File.WriteAllText(Path.Combine(outDir, "model.json"), JsonSerializer.Serialize(manifest, ModelManifest.Json) + "\n");
        File.WriteAllText(Path.Combine(outDir, "training.json"), JsonSerializer.Serialize(new
        {
            trainer.Options, trainer.Step, trainer.SkippedUpdates, sha256 = sha, trainCommand = command,
            selection = selection is null ? null
                : new { selection.Step, validationFrechet = Math.Round(selection.Frechet!.Value, 3), selection.Clips, selection.Every },
        }, ModelManifest.Json) + "\n");
        File.WriteAllBytes(Path.Combine(outDir, "samples.png"), Samples(shipped, data));
    }

    /// <summary>Two real clips, then four from the shipped generator (seeds 0–3) each over its mask: background first, then the frames.</summary>
    private static byte[] Samples(VideoGanGenerator g, MovingFashion data)
    {
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        int t = g.Config.Frames, s = g.Config.ImageSize, scale = 2;
        var (real, _, _) = data.Clips(seed: 777, count: 2);
        using var parts = g.forward(Latents.ForSeeds([0, 1, 2, 3], g.Config.LatentDim).to(g.parameters().First().device));   // it may be on a GPU
        var rows = new List<(Tensor? First, Tensor Frames)>();
        for (int i = 0; i < 2; i++) rows.Add((null, real[i]));
        for (int i = 0; i < 4; i++)
        {
            rows.Add((parts.Background[i].cpu(), parts.Video[i].cpu()));
            rows.Add((null, parts.Mask[i].mul(2).sub(1).expand(3, -1, -1, -1).cpu()));
        }
        using var grid = new SKBitmap((t + 1) * s * scale, rows.Count * s * scale, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var canvas = new SKCanvas(grid);
        canvas.Clear(SKColors.Black);
        for (int r = 0; r < rows.Count; r++)
        {
            var tiles = new List<Tensor>();
            if (rows[r].First is { } first) tiles.Add(first);
            tiles.AddRange(Enumerable.Range(0, t).Select(f => rows[r].Frames.select(1, f)));
            var pixels = ImageSampler.ToPixels(stack(tiles));
            int offset = rows[r].First is null ? 1 : 0;
            for (int k = 0; k < pixels.Length; k++)
            {
                using var bitmap = ImageEncoder.ToBitmap(pixels[k], s, s, 3);
                using var tile = SKImage.FromBitmap(bitmap);
                canvas.DrawImage(tile, SKRect.Create((k + offset) * s * scale, r * s * scale, s * scale, s * scale), new SKSamplingOptions(SKFilterMode.Nearest));
            }
        }
        using var png = grid.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
