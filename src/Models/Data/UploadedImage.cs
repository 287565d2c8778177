using SkiaSharp;
using static TorchSharp.torch;

namespace GanService.Models.Data;

/// <summary>What an upload's header says: its format and size, read without decoding a pixel.</summary>
public sealed record ImageHeader(string Format, int Width, int Height);

/// <summary>Why an upload is refused, and which part of the request to blame ("image" unless said otherwise).</summary>
public sealed class UploadRejectedException(string message, int statusCode = 400) : Exception(message)
{
    /// <summary>400 for a malformed or unusable image, 413 for one too large, 415 for an unsupported format.</summary>
    public int StatusCode { get; } = statusCode;
}

/// <summary>
/// Photos from phones and shops, checked and brought to a model's input: only PNG, JPEG and WebP; the header read
/// first, so a file that claims 100000×100000 or is not an image is refused before anything is decoded; then the
/// decode honours EXIF orientation, composites transparency on white, centre-crops to a square and resizes.
/// </summary>
public static class UploadedImage
{
    public const long MaxBytes = 10 * 1024 * 1024;
    public const int MaxSide = 8192;
    public const long MaxPixels = 40_000_000;

    private static readonly Dictionary<SKEncodedImageFormat, string> Supported = new()
    {
        [SKEncodedImageFormat.Png] = "png", [SKEncodedImageFormat.Jpeg] = "jpeg", [SKEncodedImageFormat.Webp] = "webp",
    };

    /// <summary>The header's format and size, or <see cref="UploadRejectedException"/> saying what is wrong.</summary>
    public static ImageHeader Inspect(ReadOnlySpan<byte> bytes)
    {
        using var codec = Open(bytes, out var header);
        return header;
    }

    /// <summary>The checks of <see cref="Inspect"/>, returning the codec they read the header with, for decoding.</summary>
    private static SKCodec Open(ReadOnlySpan<byte> bytes, out ImageHeader header)
    {
        if (bytes.Length == 0) throw new UploadRejectedException("The image is empty (0 bytes).");
        if (bytes.Length > MaxBytes) throw new UploadRejectedException($"The image is {bytes.Length} bytes; at most {MaxBytes} (10 MiB) are accepted.", 413);
        // libpng refuses to even open a PNG past its own size limit, which would read as "not an image": the IHDR
        // chunk is read here first, so an absurd claim is named as such.
        if (bytes.Length >= 24 && bytes[..8].SequenceEqual(PngSignature) && bytes.Slice(12, 4).SequenceEqual("IHDR"u8))
            CheckSize(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(16)), System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(20)));
        var codec = SKCodec.Create(new SKMemoryStream(SKData.CreateCopy(bytes)), out var result)   // owns its stream
            ?? throw new UploadRejectedException(result == SKCodecResult.IncompleteInput
                ? "The image is truncated: its header ends early."
                : "The file is not an image: no PNG, JPEG or WebP header (nor any other format's) was found.");
        try
        {
            if (!Supported.TryGetValue(codec.EncodedFormat, out var format))
                throw new UploadRejectedException($"{codec.EncodedFormat.ToString().ToUpperInvariant()} images are not accepted; send PNG, JPEG or WebP.", 415);
            var info = codec.Info;
            if (info.Width < 1 || info.Height < 1) throw new UploadRejectedException("The image header gives no size.");
            CheckSize((uint)info.Width, (uint)info.Height);
            header = new ImageHeader(format, info.Width, info.Height);
            return codec;
        }
        catch
        {
            codec.Dispose();
            throw;
        }
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static void CheckSize(uint width, uint height)
    {
        if (width > MaxSide || height > MaxSide || (ulong)width * height > MaxPixels)
            throw new UploadRejectedException($"The image claims {width}×{height} pixels; at most {MaxSide} a side and {MaxPixels / 1_000_000} megapixels are accepted.", 413);
    }

    /// <summary>
    /// The upload as a model input: [1, 3, size, size] float32 in [−1, 1], oriented as its EXIF says, on white,
    /// the largest centred square, resized with mipmaps. Inspects first, so nothing refused is decoded.
    /// </summary>
    public static Tensor ToSquare(ReadOnlySpan<byte> bytes, int size)
    {
        using var codec = Open(bytes, out _);
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new UploadRejectedException($"The image could not be decoded ({result}).");
        if (result == SKCodecResult.IncompleteInput) throw new UploadRejectedException("The image is truncated: its pixel data ends early.");
        using var oriented = Orient(decoded, codec.EncodedOrigin);
        int side = Math.Min(oriented.Width, oriented.Height);
        var crop = SKRect.Create((oriented.Width - side) / 2f, (oriented.Height - side) / 2f, side, side);
        using var square = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(square))
        using (var image = SKImage.FromBitmap(oriented))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawImage(image, crop, SKRect.Create(0, 0, size, size), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        }
        var pixels = new byte[3 * size * size];
        ImageFiles.CopyPlanes(square.Bytes, pixels, 0);
        using var t = tensor(pixels, [1, 3, size, size], ScalarType.Byte);
        return t.to(ScalarType.Float32).div_(127.5).sub_(1.0);
    }

    /// <summary>The bitmap turned upright as EXIF's orientation tag says (the eight cases of TIFF 6.0).</summary>
    private static SKBitmap Orient(SKBitmap source, SKEncodedOrigin origin)
    {
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int w = swap ? source.Height : source.Width, h = swap ? source.Width : source.Height;
        var target = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(target);
        canvas.Clear(SKColors.Transparent);
        switch (origin)
        {
            case SKEncodedOrigin.TopRight: canvas.Scale(-1, 1, w / 2f, 0); break;
            case SKEncodedOrigin.BottomRight: canvas.RotateDegrees(180, w / 2f, h / 2f); break;
            case SKEncodedOrigin.BottomLeft: canvas.Scale(1, -1, 0, h / 2f); break;
            case SKEncodedOrigin.LeftTop: canvas.Scale(-1, 1, w / 2f, 0); canvas.Translate(w, 0); canvas.RotateDegrees(90); break;
            case SKEncodedOrigin.RightTop: canvas.Translate(w, 0); canvas.RotateDegrees(90); break;
            case SKEncodedOrigin.RightBottom: canvas.Scale(-1, 1, w / 2f, 0); canvas.Translate(0, h); canvas.RotateDegrees(-90); break;
            case SKEncodedOrigin.LeftBottom: canvas.Translate(0, h); canvas.RotateDegrees(-90); break;
        }
        using var image = SKImage.FromBitmap(source);
        canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));
        return target;
    }
}
