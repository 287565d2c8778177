using System.Diagnostics;
using System.Text.Json;
using GanService.Core.Models;
using GanService.Models;
using GanService.Models.Data;
using GanService.Models.Dcgan;
using GanService.Models.Evaluation;
using GanService.Models.VideoGan;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>eval-vgan</c>: a trained VGAN (--model, the folder train-vgan wrote) against held-out Moving Fashion clips (items
/// from Fashion-MNIST's test split, seeds the training stream never uses):
/// <list type="bullet">
/// <item>Fréchet distance of frames in the 128-d features of a frame classifier we train on real training-split frames
/// (item class × background kind, 40 classes), beside the floor between two disjoint real sets of the same size;</item>
/// <item>motion: mean absolute change between consecutive frames (0..1 per channel), generated vs real, and the share
/// of generated clips that move at least as much as the quietest 10 % of real clips;</item>
/// <item>the mask: its mean, and the share of mask pixels above 0.5.</item>
/// </list>
/// Writes metrics.json beside the weights (./run.sh puts it in the model version's metrics). <c>--split validation</c>
/// measures the same on other real clips and latents and writes no metrics: for choosing among checkpoints.
/// </summary>
public static class EvalVganCommand
{
    public static int Run(CliArgs args)
    {
        string modelDir = args.String("model", "models/vgan-moving-fashion");
        string dataDir = args.String("data", ".data/datasets/fashion-mnist");
        string classifierDir = args.String("classifier", "models/moving-fashion-classifier");
        int clips = args.Int("clips", 500);
        // validation: other real clips (seeds 305, 306) and other latents (seeds 100,000 + i), for choosing among
        // checkpoints without touching the figures the test split reports; it prints and writes no metrics.
        bool validation = args.String("split", "test") switch
        {
            "test" => false,
            "validation" => true,
            var other => throw new ArgumentException($"--split is test or validation, got '{other}'."),
        };
        set_num_threads(args.Int("threads", 2));
        var clock = Stopwatch.StartNew();
        var manifest = ModelManifest.Read(Path.Combine(modelDir, "model.json"));
        var weights = Path.Combine(modelDir, manifest.Weights);
        using var g = VideoGanGenerator.Load(manifest.Config.GetRawText(), weights);
        var c = g.Config;
        int recompute = args.Int("recompute-bn", 0);
        if (recompute > 0)
        {
            // What train-vgan does to the generator it ships; for weights written before it did.
            g.RecomputeBatchNorm(recompute);
            Console.WriteLine($"BatchNorm statistics recomputed over {recompute} batches of 64 latents");
        }

        var (testItems, testLabels) = FashionMnist.Load(dataDir, train: false);
        var heldOut = new MovingFashion(testItems, testLabels, c.Frames, c.ImageSize);
        using var classifier = FrameClassifier(classifierDir, dataDir, heldOut, args.Flag("retrain-classifier"), c);

        // Two disjoint real sets (test: seeds 303, 304) and the generated set (test: seeds 0 … clips−1), every frame of each clip.
        var (realA, _, _) = heldOut.Clips(validation ? VganValidation.RealSeed : 303, clips);
        var (realB, _, _) = heldOut.Clips(validation ? VganValidation.FloorSeed : 304, clips);
        using var generated = Generate(g, clips, firstSeed: validation ? VganValidation.FirstLatentSeed : 0);
        using var fa = classifier.FeaturesInBatches(Frames(realA));
        using var fb = classifier.FeaturesInBatches(Frames(realB));
        using var fg = classifier.FeaturesInBatches(Frames(generated.Video));
        double floor = FrechetDistance.Between(fa, fb), fid = FrechetDistance.Between(fg, fa);

        var realMotion = Motion(realA);
        var genMotion = Motion(generated.Video);
        double quiet = realMotion.Order().ElementAt(realMotion.Length / 10);
        double moving = genMotion.Count(m => m >= quiet) / (double)genMotion.Length;
        double maskMean = generated.Mask.mean().item<float>(), maskOn = generated.Mask.gt(0.5).to(ScalarType.Float32).mean().item<float>();

        Console.WriteLine($"Fréchet distance of frames: generated {fid:F2}, real-vs-real floor {floor:F2} ({clips} clips × {c.Frames} frames each)");
        Console.WriteLine($"motion (mean |frame t+1 − frame t|): generated {genMotion.Average():F4} (median {Median(genMotion):F4}), real {realMotion.Average():F4} (median {Median(realMotion):F4}); " +
                          $"{moving:P1} of generated clips move at least as much as the quietest 10 % of real ones");
        Console.WriteLine($"mask: mean {maskMean:F3}, {maskOn:P1} of pixels above 0.5");
        if (validation) return 0;

        var metrics = new Dictionary<string, object?>
        {
            ["heldOut"] = $"Moving Fashion clips from Fashion-MNIST's test split (seeds 303, 304), {clips} clips of {c.Frames}×{c.ImageSize}²",
            ["frechet"] = new { generated = Math.Round(fid, 3), realFloor = Math.Round(floor, 3), frames = clips * c.Frames, featureSpace = "moving-fashion-classifier fc1 (128-d)" },
            ["motion"] = new
            {
                generated = Math.Round(genMotion.Average(), 5), real = Math.Round(realMotion.Average(), 5),
                generatedMedian = Math.Round(Median(genMotion), 5), realMedian = Math.Round(Median(realMotion), 5),
                movingShare = Math.Round(moving, 4),
            },
            ["mask"] = new { mean = Math.Round(maskMean, 4), above05 = Math.Round(maskOn, 4) },
            ["evaluatedAt"] = DateTimeOffset.UtcNow,
            ["weightsSha256"] = Weights.Sha256(weights),
            // The file's weights with other BatchNorm statistics: say so, since the figures are then not the stored weights'.
            ["batchNormRecomputedBatches"] = recompute > 0 ? recompute : null,
            ["command"] = "dotnet artifacts/bin/GanService.Workers/release/GanService.Workers.dll " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
        };
        File.WriteAllText(Path.Combine(modelDir, "metrics.json"), JsonSerializer.Serialize(metrics, ModelManifest.Json) + "\n");
        Console.WriteLine($"wrote {Path.Combine(modelDir, "metrics.json")} in {clock.Elapsed.TotalMinutes:F1} min");
        return 0;
    }

    /// <summary>
    /// The frame classifier (item class × background kind): loaded from <paramref name="dir"/>, or trained on 24,000
    /// frames of training-split clips (seed 101, one frame per clip) and saved there with its held-out accuracy.
    /// </summary>
    internal static Classifier FrameClassifier(string dir, string dataDir, MovingFashion heldOut, bool retrain, VideoGanConfig c)
    {
        var config = new ClassifierConfig(3, c.ImageSize, 10 * MovingFashion.Backgrounds.Count);
        var path = Path.Combine(dir, "classifier.safetensors");
        if (!retrain && File.Exists(path))
        {
            var loaded = new Classifier(config);
            Weights.Load(loaded, path);
            loaded.eval();
            return loaded;
        }
        var (items, labels) = FashionMnist.Load(dataDir, train: true);
        var train = new MovingFashion(items, labels, c.Frames, c.ImageSize);
        var (x, y) = OneFramePerClip(train, 101, 24_000);
        var trainer = new ClassifierTrainer(new ClassifierTrainOptions(Epochs: 8, LearningRateDecay: 0.7, Config: config));
        trainer.Train(x, y);
        var (hx, hy) = OneFramePerClip(heldOut, 202, 2_000);
        double accuracy = ClassifierTrainer.Accuracy(trainer.Model, hx, hy);
        Directory.CreateDirectory(dir);
        Weights.Save(trainer.Model, path);
        File.WriteAllText(Path.Combine(dir, "README.md"), $"""
            # moving-fashion-classifier

            Feature extractor for `eval-vgan` (Fréchet distance of video frames in its 128-d `fc1` features):
            `GanService.Models.Evaluation.Classifier` with `ClassifierConfig(3, {c.ImageSize}, 40)`, trained to tell the item class
            (10) × background kind (4) of single Moving Fashion frames: 24,000 frames of training-split clips (seed 101, one
            frame per clip), Adam 1e-3 × 0.7 per epoch, 8 epochs, batch 128, seed 1.
            Held-out accuracy: {accuracy:P2} on 2,000 frames of test-split clips (seed 202).
            Reproduce: `dotnet artifacts/bin/GanService.Workers/release/GanService.Workers.dll eval-vgan --retrain-classifier`.

            """);
        Console.WriteLine($"trained the frame classifier: held-out accuracy {accuracy:P2}");
        trainer.Model.eval();
        return trainer.Model;
    }

    /// <summary>Frame (clip index mod frames) of each clip, labelled item class × 4 + background kind.</summary>
    private static (Tensor Frames, Tensor Labels) OneFramePerClip(MovingFashion data, long seed, int count)
    {
        var frames = new List<Tensor>();
        var labels = new List<Tensor>();
        for (int first = 0; first < count; first += 500)
        {
            var (clips, items, kinds) = data.Clips(seed, Math.Min(500, count - first), first);
            var index = arange(clips.shape[0]).remainder(data.Frames);
            // [N, 3, T, S, S] → frame index[n] of clip n
            frames.Add(clips.permute(0, 2, 1, 3, 4)[arange(clips.shape[0]), index]);
            labels.Add(items * MovingFashion.Backgrounds.Count + kinds);
        }
        return (cat(frames, 0), cat(labels, 0));
    }

    /// <summary>Clips of latents firstSeed … firstSeed + clips − 1, on the CPU whatever device <paramref name="g"/> is on.</summary>
    internal static VideoParts Generate(VideoGanGenerator g, int clips, long firstSeed)
    {
        using var mode = inference_mode();
        using var scope = NewDisposeScope();   // the batches, latents and clamped copies; the result is moved out
        var device = g.parameters().First().device;
        var parts = new List<VideoParts>();
        for (int start = 0; start < clips; start += 50)
        {
            var seeds = Enumerable.Range(start, Math.Min(50, clips - start)).Select(i => firstSeed + i).ToArray();
            parts.Add(g.forward(Latents.ForSeeds(seeds, g.Config.LatentDim).to(device)));
        }
        return new VideoParts(Keep(cat(parts.Select(p => p.Video.clamp(-1, 1)).ToArray(), 0)), Keep(cat(parts.Select(p => p.Background).ToArray(), 0)),
            Keep(cat(parts.Select(p => p.Mask).ToArray(), 0)), Keep(cat(parts.Select(p => p.Foreground).ToArray(), 0)));

        // On the CPU .cpu() may be the tensor itself; either way the CPU copy leaves the scope and the rest is disposed.
        static Tensor Keep(Tensor t) => t.cpu().MoveToOuterDisposeScope();
    }

    /// <summary>[N, 3, T, S, S] → [N·T, 3, S, S].</summary>
    internal static Tensor Frames(Tensor clips) =>
        clips.permute(0, 2, 1, 3, 4).reshape(-1, clips.shape[1], clips.shape[3], clips.shape[4]);

    /// <summary>Per clip: mean |x(t+1) − x(t)| over frames, channels and pixels, in units of the [0, 1] range.</summary>
    public static double[] Motion(Tensor clips)
    {
        using var scope = NewDisposeScope();
        var d = clips.narrow(2, 1, clips.shape[2] - 1).sub(clips.narrow(2, 0, clips.shape[2] - 1)).abs().div(2);
        return d.mean([1, 2, 3, 4]).to(ScalarType.Float64).data<double>().ToArray();
    }

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);
}
