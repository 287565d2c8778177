using System.Diagnostics;
using System.Text.Json;
using GanService.Models;
using GanService.Models.Data;
using GanService.Models.StackGan;
using GanService.Models.Text;
using GanService.Workers.Inference;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>train-stackgan</c>: trains StackGAN on the emoji caption set, conditioned on the frozen caption encoder
/// (--encoder, default models/emoji-text-encoder). <c>--stage 1</c> (default) trains Stage-I at 64×64; <c>--stage 2</c>
/// trains Stage-II at --size (256 or 128) on the real images at that size, with --out's stage1.safetensors frozen
/// (--l1 W adds W times the L1 distance to the caption's real image to G's loss, pix2pix's term; 0 by default).
/// Each step takes distinct training images, one of each image's captions, and one matching-aware GAN step. Writes
/// stage1.safetensors or stage2.safetensors, training-stage1.json or training-stage2.json and samples-stage1.png or
/// samples-stage2.png (held-out captions × seeds) to --out, also every --save-every steps, and checkpoints for an exact
/// resume (under --checkpoints, by default .data/checkpoints/stackgan-emoji-stage1 or -stage2). <c>--list-images</c>
/// prints the image files a run reads and exits.
/// </summary>
public static class TrainStackGanCommand
{
    public static int Run(CliArgs args)
    {
        int stage = args.Int("stage", 1);
        if (stage is not (1 or 2)) throw new ArgumentException($"--stage must be 1 or 2, not {stage}.");
        string dataDir = args.String("data", ".data/datasets");
        string outDir = args.String("out", "models/stackgan-emoji");
        string checkpoints = args.String("checkpoints", $".data/checkpoints/stackgan-emoji-stage{stage}");
        long steps = args.OptionalLong("steps") ?? 20000;
        int threads = args.Int("threads", 2), logEvery = args.Int("log-every", 100), saveEvery = args.Int("save-every", 1000);
        double maxMinutes = args.OptionalDouble("max-minutes") ?? double.PositiveInfinity;
        var (device, deviceName) = Devices.Choose(args.String("device", "auto"));
        if (device.type == TorchSharp.DeviceType.CPU) set_num_threads(threads);

        var encoder = CaptionEncoderFiles.Load(args.String("encoder", "models/emoji-text-encoder"));
        var catalog = EmojiCaptions.Catalog(dataDir);
        var train = catalog.Where(c => !c.HeldOut).ToList();
        var held = catalog.Where(c => c.HeldOut).ToList();
        if (args.Flag("list-images"))
        {
            // What a run reads (bench/gpu/pack.sh carries only these): the training images and the held-out samples'.
            foreach (var c in train.Concat(SampleImages(held))) Console.WriteLine(c.Path);
            return 0;
        }
        int textDim = encoder.Encoder.Config.TextDim;
        long seed = args.OptionalLong("seed") ?? 1;
        IStackGanTrainer? resumed = args.Flag("fresh") ? null
            : stage == 1 ? StageOneTrainer.Resume(checkpoints, device) : StageTwoTrainer.Resume(checkpoints, device);
        using var trainer = resumed ?? (stage == 1
            ? new StageOneTrainer(new StageOneConfig(TextDim: textDim, Ngf: args.Int("ngf", 48), Ndf: args.Int("ndf", 48)),
                new StageOneTrainOptions(BatchSize: args.Int("batch", 64), LearningRate: args.Double("lr", 2e-4), KlWeight: args.Double("kl", 2.0), Seed: seed,
                    InstanceNoise: args.Double("noise", 0.1), NoiseDecaySteps: args.OptionalLong("noise-decay") ?? 5000,
                    Augment: args.Flag("augment")), device)
            : new StageTwoTrainer(
                new StageTwoConfig(TextDim: textDim, ImageSize: args.Int("size", 256), Ngf: args.Int("ngf", 48), Ndf: args.Int("ndf", 32),
                    ResidualBlocks: args.Int("residual-blocks", 2)),
                new StageTwoTrainOptions(BatchSize: args.Int("batch", 32), LearningRate: args.Double("lr", 2e-4), KlWeight: args.Double("kl", 2.0), Seed: seed,
                    InstanceNoise: args.Double("noise", 0.1), NoiseDecaySteps: args.OptionalLong("noise-decay") ?? 4000,
                    Augment: !args.Flag("no-augment"), ReconstructionWeight: args.Double("l1", 0)),
                StackGanFiles.LoadStageOne(outDir), device));
        if (trainer.Step > 0) Console.WriteLine($"resumed from {GanService.Models.Training.Checkpoints.Latest(checkpoints)} at step {trainer.Step}");

        // All training images on the device, once (256 px: 2.3 GB as float).
        using var images = ImageFiles.LoadOnWhite(train.Select(c => c.Path).ToList(), trainer.ImageSize).to(device);
        // Every training caption's embedding, once: the encoder is frozen.
        var captionOf = train.Select(c => c.Captions).ToList();
        var offsets = new int[train.Count + 1];
        for (int i = 0; i < train.Count; i++) offsets[i + 1] = offsets[i] + captionOf[i].Count;
        using var embeddings = encoder.Embed(captionOf.SelectMany(c => c).ToList()).to(device);
        Console.WriteLine($"Stage-{(stage == 1 ? "I" : "II")} on {deviceName}: {train.Count} images at {trainer.ImageSize} px ({offsets[^1]} captions), " +
                          $"{held.Count} held out; batch {trainer.BatchSize}, G {Parameters(trainer.Generator):N0} parameters, D {Parameters(trainer.Discriminator):N0}");

        var clock = Stopwatch.StartNew();
        var log = new List<StackGanProgress>();
        while (trainer.Step < steps && clock.Elapsed.TotalMinutes < maxMinutes)
        {
            // Step k's batch and captions come from (seed, k) alone, so a resumed run sees the same data.
            var random = new Random(unchecked((int)(trainer.Seed * 7919 + trainer.Step)));
            var picked = Enumerable.Range(0, train.Count).OrderBy(_ => random.Next()).Take(trainer.BatchSize).ToArray();
            var captionRows = picked.Select(i => (long)(offsets[i] + random.Next(captionOf[i].Count))).ToArray();
            StackGanProgress p;
            using (NewDisposeScope())
                p = trainer.TrainStep(images.index_select(0, tensor(picked.Select(i => (long)i).ToArray()).to(device)),
                    embeddings.index_select(0, tensor(captionRows).to(device)));
            if (p.Step % logEvery == 0)
            {
                log.Add(p);
                Console.WriteLine($"step {p.Step}: D {p.LossD:F3} G {p.LossG:F3} KL {p.Kl:F3} | D(real,right) {p.RealRight:F2} D(fake) {p.FakeRight:F2} " +
                                  $"D(real,wrong) {p.RealWrong:F2} L1 {p.Reconstruction:F3} ({clock.Elapsed.TotalSeconds:F0} s)");
            }
            if (p.Step % saveEvery == 0) Save(stage, trainer, encoder, held, outDir, checkpoints, log, clock.Elapsed.TotalSeconds);
        }
        Save(stage, trainer, encoder, held, outDir, checkpoints, log, clock.Elapsed.TotalSeconds);
        Console.WriteLine($"wrote {outDir} at step {trainer.Step}");
        return 0;
    }

    private static List<CaptionedImage> SampleImages(List<CaptionedImage> held) => held.Where((_, i) => i % 36 == 0).Take(8).ToList();

    private static long Parameters(TorchSharp.torch.nn.Module m) => m.parameters().Sum(p => p.numel());

    private static void Save(int stage, IStackGanTrainer trainer, CaptionEncoderFiles encoder, List<CaptionedImage> held, string outDir, string checkpoints,
        List<StackGanProgress> log, double seconds)
    {
        trainer.SaveCheckpoint(checkpoints);
        Directory.CreateDirectory(outDir);
        Weights.Save(trainer.Generator, Path.Combine(outDir, $"stage{stage}.safetensors"));
        File.WriteAllText(Path.Combine(outDir, $"training-stage{stage}.json"), JsonSerializer.Serialize(new
        {
            trainer.Step, settings = trainer.Settings, secondsThisRun = Math.Round(seconds),
            command = "GanService.Workers train-stackgan " + string.Join(' ', Environment.GetCommandLineArgs().Skip(2)),
            log,
        }, CaptionEncoderFiles.Json) + "\n");
        // Samples: eight held-out captions (every 36th held-out image), eight seeds each, as 128 px tiles (Stage-I at 2×).
        var captions = SampleImages(held).Select(c => c.Captions[0]).ToList();
        File.WriteAllBytes(Path.Combine(outDir, $"samples-stage{stage}.png"), Grid(trainer, encoder, captions, 8, 128));
        File.WriteAllLines(Path.Combine(outDir, "samples.txt"), captions);
    }

    /// <summary>One row per caption, seeds 0..perRow−1, each image drawn as a <paramref name="tile"/>-pixel square.</summary>
    private static byte[] Grid(IStackGanTrainer trainer, CaptionEncoderFiles encoder, IReadOnlyList<string> captions, int perRow, int tile)
    {
        using var text = encoder.Embed(captions).to(trainer.Device);
        var seeds = Enumerable.Range(0, perRow).Select(i => (long)i).ToList();
        return SampleGrid.Paint(captions.Count, perRow, trainer.ImageSize, 3, tile, row =>
        {
            using var scope = NewDisposeScope();
            var (low, high) = trainer.Draw(text.narrow(0, row, 1).expand(perRow, -1), seeds);
            return ImageSampler.ToPixels(high ?? low);
        });
    }
}
