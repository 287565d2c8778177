using SkiaSharp;

namespace GanService.Workers.Inference;

/// <summary>Encodes 8-bit pixel planes (grey or RGB, HWC) as PNG, WebP or JPEG with SkiaSharp.</summary>
public static class ImageEncoder
{
    public static byte[] Encode(byte[] pixels, int width, int height, int channels, string format)
    {
        using var bitmap = ToBitmap(pixels, width, height, channels);
        var (fmt, quality) = format switch
        {
            "png" => (SKEncodedImageFormat.Png, 100),
            "webp" => (SKEncodedImageFormat.Webp, 100),
            "jpeg" => (SKEncodedImageFormat.Jpeg, 92),
            _ => throw new ArgumentException($"Unknown format '{format}'."),
        };
        using var data = bitmap.Encode(fmt, quality) ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}.");
        return data.ToArray();
    }

    /// <summary>8-bit HWC pixels (grey or RGB) as an opaque bitmap; the caller disposes it.</summary>
    public static SKBitmap ToBitmap(byte[] pixels, int width, int height, int channels) => channels switch
    {
        1 => Gray(pixels, width, height),
        3 => Rgb(pixels, width, height),
        _ => throw new ArgumentException($"Cannot encode {channels} channels."),
    };

    private static SKBitmap Gray(byte[] pixels, int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), width * height);
        return bitmap;
    }

    private static SKBitmap Rgb(byte[] pixels, int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = new byte[width * height * 4];
        for (int i = 0, j = 0; i < width * height; i++, j += 3)
        {
            rgba[4 * i] = pixels[j];
            rgba[4 * i + 1] = pixels[j + 1];
            rgba[4 * i + 2] = pixels[j + 2];
            rgba[4 * i + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        return bitmap;
    }
}
