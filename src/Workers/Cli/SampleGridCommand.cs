using System.Text.Json;
using GanService.Core.Models;
using GanService.Models;
using GanService.Models.Dcgan;
using GanService.Workers.Inference;
using SkiaSharp;
using static TorchSharp.torch;
using Generator = GanService.Models.Dcgan.Generator;

namespace GanService.Workers.Cli;

/// <summary><c>sample-grid</c>: one row per label, seeds 0..N-1, through the same sampler the worker uses.</summary>
public static class SampleGridCommand
{
    public static int Run(CliArgs args)
    {
        string modelDir = args.String("model", "models/dcgan-fashion");
        string outPath = args.String("out", "docs/dcgan-fashion-samples.png");
        int perLabel = args.Int("per-label", 10), scale = args.Int("scale", 2);
        var manifest = ModelManifest.Read(Path.Combine(modelDir, "model.json"));
        var config = manifest.Config.Deserialize<DcganConfig>(ModelManifest.Json)!;
        using var g = new Generator(config);
        Weights.Load(g, Path.Combine(modelDir, manifest.Weights));
        g.eval();
        int size = config.ImageSize, rows = Math.Max(1, config.NumClasses);
        using var grid = new SKBitmap(perLabel * size * scale, rows * size * scale, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var canvas = new SKCanvas(grid);
        for (int row = 0; row < rows; row++)
        {
            var seeds = Enumerable.Range(0, perLabel).Select(i => (long)i).ToArray();
            int[]? labels = config.NumClasses > 0 ? seeds.Select(_ => row).ToArray() : null;
            var pixels = ImageSampler.Sample(g, CPU, seeds, labels, 1.0);
            for (int col = 0; col < perLabel; col++)
            {
                var png = ImageEncoder.Encode(pixels[col], size, size, config.Channels, "png");
                using var tile = SKImage.FromEncodedData(png);
                canvas.DrawImage(tile, SKRect.Create(col * size * scale, row * size * scale, size * scale, size * scale),
                    new SKSamplingOptions(SKFilterMode.Nearest));
            }
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        using var data = grid.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(outPath, data.ToArray());
        Console.WriteLine($"wrote {outPath}: {rows} rows ({string.Join(", ", manifest.Labels ?? [])}) × seeds 0..{perLabel - 1}");
        return 0;
    }
}
