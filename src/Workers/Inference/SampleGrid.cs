using GanService.Models;
using SkiaSharp;
using static TorchSharp.torch;

namespace GanService.Workers.Inference;

/// <summary>A PNG grid of samples drawn through the worker's own sampler (so it shows what the service serves).</summary>
public static class SampleGrid
{
    /// <summary>
    /// A conditional model gets one row per label with seeds 0..perRow−1; an unconditional one <paramref name="rows"/>
    /// rows of consecutive seeds from 0. Tiles are scaled up <paramref name="scale"/>× with nearest-neighbour sampling.
    /// </summary>
    public static byte[] Render(IImageGenerator g, Device device, int rows, int perRow, int scale)
    {
        int size = g.ImageSize;
        bool conditional = g.NumClasses > 0;
        if (conditional) rows = g.NumClasses;
        using var grid = new SKBitmap(perRow * size * scale, rows * size * scale, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var canvas = new SKCanvas(grid);
        for (int row = 0; row < rows; row++)
        {
            var seeds = Enumerable.Range(0, perRow).Select(i => (long)(conditional ? i : row * perRow + i)).ToArray();
            int[]? labels = conditional ? seeds.Select(_ => row).ToArray() : null;
            var pixels = ImageSampler.Sample(g, device, seeds, labels, 1.0);
            for (int col = 0; col < perRow; col++)
            {
                using var bitmap = ImageEncoder.ToBitmap(pixels[col], size, size, g.Channels);
                using var tile = SKImage.FromBitmap(bitmap);
                canvas.DrawImage(tile, SKRect.Create(col * size * scale, row * size * scale, size * scale, size * scale),
                    new SKSamplingOptions(SKFilterMode.Nearest));
            }
        }
        using var data = grid.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
