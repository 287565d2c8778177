using System.Diagnostics;
using System.Text.Json;
using GanService.Models;
using GanService.Models.Data;
using GanService.Models.StackGan;
using GanService.Models.Text;
using GanService.Workers.Inference;
using SkiaSharp;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>train-stackgan</c>: trains StackGAN's Stage-I (64×64) on the emoji caption set, conditioned on the frozen caption
/// encoder (--encoder, default models/emoji-text-encoder). Each step takes distinct training images, one of each
/// image's captions, and one matching-aware GAN step. Writes stage1.safetensors, training.json and samples.png (held-out
/// captions × seeds) to --out, also every --save-every steps, and checkpoints for an exact resume.
/// </summary>
public static class TrainStackGanCommand
{
    public static int Run(CliArgs args)
    {
        string dataDir = args.String("data", ".data/datasets");
        string encoderDir = args.String("encoder", "models/emoji-text-encoder");
        string outDir = args.String("out", "models/stackgan-emoji");
        string checkpoints = args.String("checkpoints", ".data/checkpoints/stackgan-emoji-stage1");
        long steps = args.OptionalLong("steps") ?? 20000;
        int threads = args.Int("threads", 2), logEvery = args.Int("log-every", 100), saveEvery = args.Int("save-every", 1000);
        double maxMinutes = args.OptionalDouble("max-minutes") ?? double.PositiveInfinity;
        var (device, deviceName) = Devices.Choose(args.String("device", "auto"));
        if (device.type == TorchSharp.DeviceType.CPU) set_num_threads(threads);

        var encoder = CaptionEncoderFiles.Load(encoderDir);
        var catalog = EmojiCaptions.Catalog(dataDir);
        var train = catalog.Where(c => !c.HeldOut).ToList();
        var held = catalog.Where(c => c.HeldOut).ToList();
        var config = new StageOneConfig(TextDim: encoder.Encoder.Config.TextDim, Ngf: args.Int("ngf", 48), Ndf: args.Int("ndf", 48));
        var options = new StageOneTrainOptions(BatchSize: args.Int("batch", 64), LearningRate: args.Double("lr", 2e-4),
            KlWeight: args.Double("kl", 2.0), Seed: args.OptionalLong("seed") ?? 1);
        using var trainer = (args.Flag("fresh") ? null : StageOneTrainer.Resume(checkpoints, device)) ?? new StageOneTrainer(config, options, device);
        if (trainer.Step > 0) Console.WriteLine($"resumed from {GanService.Models.Training.Checkpoints.Latest(checkpoints)} at step {trainer.Step}");

        using var images = ImageFiles.LoadOnWhite(train.Select(c => c.Path).ToList(), StageOneConfig.ImageSize);
        // Every training caption's embedding, once: the encoder is frozen.
        var captionOf = train.Select(c => c.Captions).ToList();
        var offsets = new int[train.Count + 1];
        for (int i = 0; i < train.Count; i++) offsets[i + 1] = offsets[i] + captionOf[i].Count;
        using var embeddings = encoder.Embed(captionOf.SelectMany(c => c).ToList());
        Console.WriteLine($"Stage-I on {deviceName}: {train.Count} images ({offsets[^1]} captions), {held.Count} held out; batch {trainer.Options.BatchSize}, " +
                          $"G {Parameters(trainer.G):N0} parameters, D {Parameters(trainer.D):N0}");

        var clock = Stopwatch.StartNew();
        var log = new List<StageOneProgress>();
        while (trainer.Step < steps && clock.Elapsed.TotalMinutes < maxMinutes)
        {
            // Step k's batch and captions come from (seed, k) alone, so a resumed run sees the same data.
            var random = new Random(unchecked((int)(trainer.Options.Seed * 7919 + trainer.Step)));
            var picked = Enumerable.Range(0, train.Count).OrderBy(_ => random.Next()).Take(trainer.Options.BatchSize).ToArray();
            var captionRows = picked.Select(i => (long)(offsets[i] + random.Next(captionOf[i].Count))).ToArray();
            StageOneProgress p;
            using (NewDisposeScope())
                p = trainer.TrainStep(images.index_select(0, tensor(picked.Select(i => (long)i).ToArray())).to(device),
                    embeddings.index_select(0, tensor(captionRows)).to(device));
            if (p.Step % logEvery == 0)
            {
                log.Add(p);
                Console.WriteLine($"step {p.Step}: D {p.LossD:F3} G {p.LossG:F3} KL {p.Kl:F3} | D(real,right) {p.RealRight:F2} D(fake) {p.FakeRight:F2} " +
                                  $"D(real,wrong) {p.RealWrong:F2} ({clock.Elapsed.TotalSeconds:F0} s)");
            }
            if (p.Step % saveEvery == 0) Save(trainer, encoder, held, outDir, checkpoints, log, clock.Elapsed.TotalSeconds);
        }
        Save(trainer, encoder, held, outDir, checkpoints, log, clock.Elapsed.TotalSeconds);
        Console.WriteLine($"wrote {outDir} at step {trainer.Step}");
        return 0;
    }

    private static long Parameters(TorchSharp.torch.nn.Module m) => m.parameters().Sum(p => p.numel());

    private static void Save(StageOneTrainer trainer, CaptionEncoderFiles encoder, List<CaptionedImage> held, string outDir, string checkpoints,
        List<StageOneProgress> log, double seconds)
    {
        trainer.SaveCheckpoint(checkpoints);
        Directory.CreateDirectory(outDir);
        Weights.Save(trainer.G, Path.Combine(outDir, "stage1.safetensors"));
        File.WriteAllText(Path.Combine(outDir, "training.json"), JsonSerializer.Serialize(new
        {
            stage = 1, trainer.Step, trainer.Config, trainer.Options, secondsThisRun = Math.Round(seconds),
            command = "GanService.Workers train-stackgan " + string.Join(' ', Environment.GetCommandLineArgs().Skip(2)),
            log,
        }, CaptionEncoderFiles.Json) + "\n");
        // Samples: eight held-out captions (every 36th held-out image), eight seeds each.
        var captions = held.Where((_, i) => i % 36 == 0).Take(8).Select(c => c.Captions[0]).ToList();
        File.WriteAllBytes(Path.Combine(outDir, "samples.png"), Grid(trainer.G, encoder, captions, 8, trainer.Device));
        File.WriteAllLines(Path.Combine(outDir, "samples.txt"), captions);
    }

    /// <summary>One row per caption, seeds 0..perRow−1 (z and the condition's ε from the seed), 64 px tiles at 2×.</summary>
    private static byte[] Grid(StageOneGenerator g, CaptionEncoderFiles encoder, IReadOnlyList<string> captions, int perRow, Device device)
    {
        g.eval();
        const int size = StageOneConfig.ImageSize, scale = 2;
        using var grid = new SKBitmap(perRow * size * scale, captions.Count * size * scale, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var canvas = new SKCanvas(grid);
        using (NewDisposeScope())
        using (no_grad())
        {
            var text = encoder.Embed(captions).to(device);
            var (mu, logVar) = g.Condition(text);
            for (int col = 0; col < perRow; col++)
            {
                using var gen = new TorchSharp.torch.Generator((ulong)col);
                var eps = randn([captions.Count, g.Config.CondDim], generator: gen).to(device);
                var z = randn([captions.Count, g.Config.LatentDim], generator: gen).to(device);
                var img = g.FromCondition(ConditioningAugmentation.Sample(mu, logVar, eps), z);
                var bytes = img.add(1).mul(127.5).clamp(0, 255).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous().cpu().data<byte>().ToArray();
                for (int row = 0; row < captions.Count; row++)
                {
                    using var bitmap = ImageEncoder.ToBitmap(bytes[(row * size * size * 3)..((row + 1) * size * size * 3)], size, size, 3);
                    using var tile = SKImage.FromBitmap(bitmap);
                    canvas.DrawImage(tile, SKRect.Create(col * size * scale, row * size * scale, size * scale, size * scale), new SKSamplingOptions(SKFilterMode.Nearest));
                }
            }
        }
        g.train();
        using var data = grid.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
