using System.Diagnostics;
using GanService.Models;
using GanService.Models.Data;
using GanService.Models.Dcgan;
using GanService.Models.Training;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

public static class TrainDcganCommand
{
    public static int Run(CliArgs args)
    {
        string dataDir = args.String("data", ".data/datasets");
        string outDir = args.String("out", "models/dcgan-fashion");
        int epochs = args.Int("epochs", 15), batch = args.Int("batch", 64), threads = args.Int("threads", 2);
        long? maxSteps = args.OptionalLong("max-steps");
        long seed = args.OptionalLong("seed") ?? 1;
        var conditioning = args.String("conditioning", "aux") switch
        {
            "aux" => DiscriminatorConditioning.AuxClassifier,
            "planes" => DiscriminatorConditioning.LabelPlanes,
            var other => throw new ArgumentException($"--conditioning must be aux or planes, got '{other}'."),
        };
        double classWeight = args.Double("class-weight", 1);
        set_num_threads(threads);
        var sw = Stopwatch.StartNew();
        var (images, labels) = FashionMnist.Load(Path.Combine(dataDir, "fashion-mnist"), train: true);
        Console.WriteLine($"loaded {images.shape[0]} images in {sw.ElapsedMilliseconds} ms; D conditioning {conditioning}, class weight {classWeight}");
        var config = DcganConfig.Fashion32;
        using var trainer = new DcganTrainer(config, new DcganTrainOptions(
            Epochs: epochs, BatchSize: batch, Seed: seed, MaxSteps: maxSteps, Conditioning: conditioning, ClassWeight: classWeight));
        var last = Stopwatch.StartNew();
        trainer.Train(images, labels, new SyncProgress<TrainProgress>(p =>
        {
            if (p.Step % 50 != 0 && p.Step != p.TotalSteps) return;
            Console.WriteLine($"step {p.Step}/{p.TotalSteps} epoch {p.Epoch} lossD {p.LossD:F3} lossG {p.LossG:F3} {p.ImagesPerSecond:F0} img/s");
            if (last.Elapsed.TotalMinutes > 5)
            {
                Weights.Save(trainer.G, Path.Combine(outDir, "generator.safetensors"));
                last.Restart();
            }
        }));
        var sha = Weights.Save(trainer.G, Path.Combine(outDir, "generator.safetensors"));
        Weights.Save(trainer.D, Path.Combine(outDir, "checkpoint", "discriminator.safetensors"));
        Console.WriteLine($"saved generator sha256 {sha} after {sw.Elapsed.TotalMinutes:F1} min");
        return 0;
    }
}
