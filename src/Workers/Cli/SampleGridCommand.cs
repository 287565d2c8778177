using GanService.Core.Models;
using GanService.Models;
using GanService.Workers.Inference;
using SkiaSharp;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>sample-grid</c>: a grid of samples through the same sampler the worker uses. A conditional model gets one row
/// per label with seeds 0..N−1; an unconditional one <c>--rows</c> rows of consecutive seeds.
/// </summary>
public static class SampleGridCommand
{
    public static int Run(CliArgs args)
    {
        string modelDir = args.String("model", "models/dcgan-fashion");
        var manifest = ModelManifest.Read(Path.Combine(modelDir, "model.json"));
        string outPath = args.String("out", $"docs/{manifest.Name}-samples.png");
        int perRow = args.Int("per-label", args.Int("per-row", 10)), scale = args.Int("scale", 2);
        set_num_threads(args.Int("threads", 2));
        using var g = IImageGenerator.Load(manifest.Family, manifest.Config.GetRawText(), Path.Combine(modelDir, manifest.Weights));
        g.Prepare(CPU);
        int size = g.ImageSize;
        bool conditional = g.NumClasses > 0;
        int rows = conditional ? g.NumClasses : args.Int("rows", 8);
        using var grid = new SKBitmap(perRow * size * scale, rows * size * scale, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var canvas = new SKCanvas(grid);
        for (int row = 0; row < rows; row++)
        {
            var seeds = Enumerable.Range(0, perRow).Select(i => (long)(conditional ? i : row * perRow + i)).ToArray();
            int[]? labels = conditional ? seeds.Select(_ => row).ToArray() : null;
            var pixels = ImageSampler.Sample(g, CPU, seeds, labels, 1.0);
            for (int col = 0; col < perRow; col++)
            {
                var png = ImageEncoder.Encode(pixels[col], size, size, g.Channels, "png");
                using var tile = SKImage.FromEncodedData(png);
                canvas.DrawImage(tile, SKRect.Create(col * size * scale, row * size * scale, size * scale, size * scale),
                    new SKSamplingOptions(SKFilterMode.Nearest));
            }
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        using var data = grid.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(outPath, data.ToArray());
        Console.WriteLine(conditional
            ? $"wrote {outPath}: {rows} rows ({string.Join(", ", manifest.Labels ?? [])}) × seeds 0..{perRow - 1}"
            : $"wrote {outPath}: seeds 0..{rows * perRow - 1}, {perRow} per row");
        return 0;
    }
}
