using System.Diagnostics;
using System.Text.Json;
using GanService.Core.Models;
using GanService.Models;
using GanService.Models.Caae;
using GanService.Models.Data;
using GanService.Models.Training;
using GanService.Workers.Inference;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>train-caae</c>: trains the face-aging CAAE on the age-labelled person emoji (scripts/fetch-datasets.sh faces) and
/// writes encoder.safetensors, generator.safetensors, caae.json (config, options, data, the command) and samples.png
/// (each row: a face, then it re-drawn at every age group) to --out, also every --save-every steps.
/// </summary>
public static class TrainCaaeCommand
{
    public static int Run(CliArgs args)
    {
        string dataDir = args.String("data", ".data/datasets");
        string outDir = args.String("out", "models/caae-faces");
        string checkpoints = args.String("checkpoints", ".data/checkpoints/caae-faces");
        var sets = args.String("sets", string.Join(",", Faces.TrainingSets)).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        long steps = args.OptionalLong("steps") ?? 6000;
        // One thread: with two, libtorch 2.10's CPU backward gave NaN from the second step on, every run (the same
        // data, seed and step with one thread stayed finite); see README, Notes for developers.
        int batch = args.Int("batch", 32), threads = args.Int("threads", 1), logEvery = args.Int("log-every", 100), saveEvery = args.Int("save-every", 1000);
        double maxMinutes = args.OptionalDouble("max-minutes") ?? double.PositiveInfinity;
        var config = CaaeConfig.Faces64 with { BaseChannels = args.Int("channels", CaaeConfig.Faces64.BaseChannels) };
        var options = new CaaeTrainOptions(BatchSize: batch, Seed: args.OptionalLong("seed") ?? 1,
            ImageAdversarialWeight: args.Double("image-adversarial", 0.01), CrossAgeWeight: args.Double("cross-age", 0.01),
            ZAdversarialWeight: args.Double("z-adversarial", 0.01), TvWeight: args.Double("tv", 0),
            MaxShift: args.Int("max-shift", 4), Jitter: args.Double("jitter", 0.05), LearningRate: args.Double("lr", 2e-4));
        var (device, deviceName) = Devices.Choose(args.String("device", "cpu"));
        if (device.type == DeviceType.CPU) set_num_threads(threads);

        var items = sets.SelectMany(s => Faces.Catalog(dataDir, s)).ToList();
        var (faces, ages, genders, _) = Faces.Load(items, config.Resolution);
        Console.WriteLine($"loaded {items.Count} faces from {string.Join(", ", sets)}: " +
            string.Join(", ", Faces.AgeGroups.Select((g, i) => $"{g} {items.Count(f => f.AgeGroup == i)}")));
        // A run that stopped (killed, or --max-minutes) continues from its latest checkpoint, exactly: the batches and
        // every random draw of step k depend only on the seed and k. --fresh starts over.
        using var trainer = (args.Flag("fresh") ? null : CaaeTrainer.Resume(checkpoints, device)) ?? new CaaeTrainer(config, options, device);
        if (trainer.Step > 0) Console.WriteLine($"resumed from {Checkpoints.Latest(checkpoints)} at step {trainer.Step}");
        Console.WriteLine($"training on {deviceName}{(device.type == DeviceType.CPU ? $", {get_num_threads()} torch threads" : "")}, batch {trainer.Options.BatchSize}");
        var clock = Stopwatch.StartNew();
        long startStep = trainer.Step;
        double l1Sum = 0;
        int l1Count = 0;
        foreach (var (_, index) in Batches.Shuffled(items.Count, trainer.Options.BatchSize, steps, trainer.Options.Seed).Skip((int)trainer.Step))
        {
            if (clock.Elapsed.TotalMinutes >= maxMinutes) break;
            using (var scope = NewDisposeScope())
            {
                var p = trainer.TrainStep(faces.index_select(0, index), ages.index_select(0, index), genders.index_select(0, index));
                l1Sum += p.L1;
                l1Count++;
                if (p.Step % logEvery == 0)
                {
                    Console.WriteLine($"step {p.Step}/{steps} L1 {l1Sum / l1Count:F4} Dz {p.LossDz:F3} Dimg {p.LossDimg:F3} EG {p.LossEG:F3} skipped {p.SkippedUpdates} " +
                        $"{(p.Step - startStep) * trainer.Options.BatchSize / clock.Elapsed.TotalSeconds:F0} img/s {clock.Elapsed.TotalMinutes:F1} min");
                    l1Sum = 0;
                    l1Count = 0;
                }
            }
            if (trainer.Step % saveEvery == 0)
            {
                trainer.SaveCheckpoint(checkpoints);
                Save(trainer, outDir, items, faces, sets);
            }
        }
        trainer.SaveCheckpoint(checkpoints);
        Save(trainer, outDir, items, faces, sets);
        Console.WriteLine($"saved to {outDir} after {trainer.Step} steps ({trainer.Step - startStep} this run, {clock.Elapsed.TotalMinutes:F1} min)");
        return 0;
    }

    /// <summary>
    /// The model folder ./run.sh registers: caae.safetensors (E and G), model.json (kind aging, family caae; labels are
    /// the genders the request's <c>gender</c> takes), training.json (how far it trained) and samples.png.
    /// </summary>
    private static void Save(CaaeTrainer trainer, string outDir, List<FaceItem> items, Tensor faces, string[] sets)
    {
        Directory.CreateDirectory(outDir);
        var sha = Weights.Save(trainer.Model, Path.Combine(outDir, "caae.safetensors"));
        string command = "dotnet artifacts/bin/GanService.Workers/release/GanService.Workers.dll " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
        var manifest = new ModelManifest(
            Name: Path.GetFileName(Path.GetFullPath(outDir).TrimEnd('/')),
            Kind: "aging",
            Family: "caae",
            IsDefault: true,
            Resolution: trainer.Config.Resolution,
            Labels: [.. Faces.Genders],
            Description: $"Conditional adversarial autoencoder (Zhang, Song, Qi 2017) trained by GanService on age-labelled person emoji " +
                         $"({string.Join(", ", sets)}), {trainer.Config.Resolution}×{trainer.Config.Resolution}. Labels are the genders the optional " +
                         "`gender` field takes; babies are drawn without one.",
            Weights: "caae.safetensors",
            Config: JsonSerializer.SerializeToElement(trainer.Config, ModelManifest.Json),
            Dataset: "faces",
            TrainCommand: command,
            AgeGroups: [.. Faces.AgeGroups]);
        File.WriteAllText(Path.Combine(outDir, "model.json"), JsonSerializer.Serialize(manifest, ModelManifest.Json) + "\n");
        File.WriteAllText(Path.Combine(outDir, "training.json"), JsonSerializer.Serialize(new
        {
            trainer.Options, trainer.Step, trainer.SkippedUpdates, sets, sha256 = sha, trainCommand = command,
        }, ModelManifest.Json) + "\n");
        File.WriteAllBytes(Path.Combine(outDir, "samples.png"), AgingStrip(trainer, items, faces));
    }

    /// <summary>Two faces per set (a man and a woman in different tones): the face, then it at each age group.</summary>
    private static byte[] AgingStrip(CaaeTrainer trainer, List<FaceItem> items, Tensor faces)
    {
        var picks = items.Select((f, i) => (f, i)).GroupBy(x => x.f.Set)
            .SelectMany(g => g.Where(x => (x.f.Emoji == "man" && x.f.Tone == 1) || (x.f.Emoji == "woman" && x.f.Tone == 4)).Take(2)).ToList();
        int groups = trainer.Config.AgeGroups, size = trainer.Config.Resolution, scale = 2;
        using var grid = new SKBitmap((groups + 1) * size * scale, picks.Count * size * scale, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var canvas = new SKCanvas(grid);
        for (int row = 0; row < picks.Count; row++)
        {
            using var scope = NewDisposeScope();
            var face = faces[picks[row].i].unsqueeze(0);
            var aged = trainer.Model.Age(face, Enumerable.Range(0, groups).ToArray(), picks[row].f.Gender).cpu();
            var tiles = ImageSampler.ToPixels(cat([face, aged], 0));
            for (int col = 0; col <= groups; col++)
            {
                using var bitmap = ImageEncoder.ToBitmap(tiles[col], size, size, 3);
                using var tile = SKImage.FromBitmap(bitmap);
                canvas.DrawImage(tile, SKRect.Create(col * size * scale, row * size * scale, size * scale, size * scale), new SKSamplingOptions(SKFilterMode.Nearest));
            }
        }
        using var data = grid.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

}
