using SkiaSharp;
using static TorchSharp.torch;

namespace GanService.Models.Data;

/// <summary>Image files (PNG, WebP, JPEG…) decoded as RGB composited on white, the form every emoji dataset takes.</summary>
public static class ImageFiles
{
    /// <summary>[N, 3, size, size] float32 in [−1, 1]. Art larger than twice the size is scaled down through mipmaps
    /// (no aliasing); art at about the size is resampled with Mitchell's filter (the identity at 1:1).</summary>
    public static Tensor LoadOnWhite(IReadOnlyList<string> paths, int size)
    {
        var pixels = new byte[paths.Count * 3 * size * size];
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        int plane = size * size;
        for (int i = 0; i < paths.Count; i++)
        {
            using var source = SKImage.FromEncodedData(paths[i]) ?? throw new InvalidDataException($"{paths[i]} is not a decodable image.");
            var sampling = source.Width > 2 * size
                ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
                : new SKSamplingOptions(SKCubicResampler.Mitchell);
            canvas.Clear(SKColors.White);
            canvas.DrawImage(source, new SKRect(0, 0, size, size), sampling);
            canvas.Flush();
            CopyPlanes(bitmap.Bytes, pixels, i * 3 * plane);
        }
        using var bytes = tensor(pixels, [paths.Count, 3, size, size], ScalarType.Byte);
        return bytes.to(ScalarType.Float32).div_(127.5).sub_(1.0);
    }

    /// <summary>Interleaved RGBA (opaque, on white) to planar RGB at <paramref name="offset"/>: R plane, G plane, B plane.</summary>
    internal static void CopyPlanes(byte[] rgba, byte[] planes, int offset)
    {
        int plane = rgba.Length / 4;
        for (int p = 0; p < plane; p++)
        {
            planes[offset + p] = rgba[4 * p];
            planes[offset + plane + p] = rgba[4 * p + 1];
            planes[offset + 2 * plane + p] = rgba[4 * p + 2];
        }
    }
}
