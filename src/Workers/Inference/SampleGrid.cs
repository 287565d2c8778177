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
        bool conditional = g.NumClasses > 0;
        if (conditional) rows = g.NumClasses;
        return Paint(rows, perRow, g.ImageSize, g.Channels, g.ImageSize * scale, row =>
        {
            var seeds = Enumerable.Range(0, perRow).Select(i => (long)(conditional ? i : row * perRow + i)).ToArray();
            return ImageSampler.Sample(g, device, seeds, conditional ? seeds.Select(_ => row).ToArray() : null, 1.0);
        });
    }

    /// <summary>One row per prompt, seeds 0..perRow−1, drawn as text-to-image jobs draw them (the final images).</summary>
    public static byte[] Render(GanService.Models.StackGan.StackGanModel model, IReadOnlyList<string> prompts, int perRow, int scale) =>
        Paint(prompts.Count, perRow, model.ImageSize, 3, model.ImageSize * scale, row =>
        {
            using var scope = NewDisposeScope();
            var (text, _) = model.Embed(prompts[row]);
            var (low, high) = model.Draw(text, Enumerable.Range(0, perRow).Select(i => (long)i).ToList());
            return ImageSampler.ToPixels(high ?? low);
        });

    /// <summary>
    /// Rows of <paramref name="perRow"/> square HWC images of side <paramref name="size"/> (<paramref name="row"/> gives
    /// row r's), each drawn as a <paramref name="tile"/>-pixel square: enlarged with nearest-neighbour sampling, reduced
    /// with linear sampling over mipmaps.
    /// </summary>
    internal static byte[] Paint(int rows, int perRow, int size, int channels, int tile, Func<int, byte[][]> row)
    {
        var sampling = tile >= size ? new SKSamplingOptions(SKFilterMode.Nearest) : new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear);
        using var grid = new SKBitmap(perRow * tile, rows * tile, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var canvas = new SKCanvas(grid);
        for (int r = 0; r < rows; r++)
        {
            var pixels = row(r);
            for (int col = 0; col < perRow; col++)
            {
                using var bitmap = ImageEncoder.ToBitmap(pixels[col], size, size, channels);
                using var image = SKImage.FromBitmap(bitmap);
                canvas.DrawImage(image, SKRect.Create(col * tile, r * tile, tile, tile), sampling);
            }
        }
        using var data = grid.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
