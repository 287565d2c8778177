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
/// What an upload may be, checked from its header before any decode. Defaults are the HTTP contract's: 10 MiB,
/// 4096 px a side, 16 megapixels (a 12 MP phone photo, 4032×3024, fits; a decode is at most 64 MB of RGBA).
/// </summary>
public sealed record UploadLimits(long MaxBytes = 10 * 1024 * 1024, int MaxSide = 4096, long MaxPixels = 16_000_000)
{
    public static UploadLimits Default { get; } = new();
}

/// <summary>
/// Photos from phones and shops, checked and brought to a model's input: only PNG, JPEG and WebP; the header read
/// first, so a file that claims 100000×100000 or is not an image is refused before anything is decoded; then the
/// decode honours EXIF orientation, composites transparency on white, centre-crops to a square and resizes.
/// </summary>
public static class UploadedImage
{
    private static readonly Dictionary<SKEncodedImageFormat, string> Supported = new()
    {
        [SKEncodedImageFormat.Png] = "png", [SKEncodedImageFormat.Jpeg] = "jpeg", [SKEncodedImageFormat.Webp] = "webp",
    };

    /// <summary>The header's format and size, or <see cref="UploadRejectedException"/> saying what is wrong.</summary>
    public static ImageHeader Inspect(ReadOnlySpan<byte> bytes, UploadLimits? limits = null)
    {
        using var codec = Open(bytes, limits ?? UploadLimits.Default, out var header);
        return header;
    }

    /// <summary>The checks of <see cref="Inspect"/>, returning the codec they read the header with, for decoding.</summary>
    private static SKCodec Open(ReadOnlySpan<byte> bytes, UploadLimits limits, out ImageHeader header)
    {
        if (bytes.Length == 0) throw new UploadRejectedException("The image is empty (0 bytes).");
        if (bytes.Length > limits.MaxBytes) throw new UploadRejectedException($"The image is {bytes.Length} bytes; at most {limits.MaxBytes} ({limits.MaxBytes / 1048576.0:0.#} MiB) are accepted.", 413);
        // libpng refuses to even open a PNG past its own size limit, which would read as "not an image": the IHDR
        // chunk is read here first, so an absurd claim is named as such.
        if (bytes.Length >= 24 && bytes[..8].SequenceEqual(PngSignature) && bytes.Slice(12, 4).SequenceEqual("IHDR"u8))
            CheckSize(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(16)), System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(20)), limits);
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
            CheckSize((uint)info.Width, (uint)info.Height, limits);
            if (!Complete(format, bytes)) throw new UploadRejectedException($"The image is truncated: its {format.ToUpperInvariant()} data ends before the end of the image.");
            header = new ImageHeader(format, info.Width, info.Height);
            return codec;
        }
        catch
        {
            codec.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether the file's structure runs to its end marker, without decoding: PNG chunks up to IEND, JPEG segments and
    /// scans up to EOI, a WebP's RIFF size. Bytes after the end (a phone's trailer, a motion photo's video) are fine.
    /// </summary>
    private static bool Complete(string format, ReadOnlySpan<byte> b)
    {
        switch (format)
        {
            case "png":
                for (long at = 8; at + 12 <= b.Length;)
                {
                    long length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b.Slice((int)at));
                    if (b.Slice((int)at + 4, 4).SequenceEqual("IEND"u8)) return true;
                    at += 12 + length;
                }
                return false;
            case "webp":
                return b.Length >= 12 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(4)) + 8L <= b.Length;
            case "jpeg":
                int i = 2;
                while (i + 2 <= b.Length)
                {
                    if (b[i] != 0xFF) return false;
                    byte marker = b[i + 1];
                    if (marker == 0xD9) return true;                                   // EOI
                    if (marker == 0xFF) { i++; continue; }                             // fill byte
                    if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) { i += 2; continue; } // no length
                    if (i + 4 > b.Length) return false;
                    int length = (b[i + 2] << 8) | b[i + 3];
                    i += 2 + length;
                    if (marker != 0xDA) continue;
                    // After SOS, entropy-coded data: FF is followed by 00 (stuffing) or a restart marker, until the next marker.
                    while (i + 1 < b.Length && !(b[i] == 0xFF && b[i + 1] != 0x00 && b[i + 1] is not (>= 0xD0 and <= 0xD7))) i++;
                    if (i + 1 >= b.Length) return false;
                }
                return false;
            default:
                return true;
        }
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static void CheckSize(uint width, uint height, UploadLimits limits)
    {
        if (width > limits.MaxSide || height > limits.MaxSide || (ulong)width * height > (ulong)limits.MaxPixels)
            throw new UploadRejectedException($"The image claims {width}×{height} pixels; at most {limits.MaxSide} a side and {limits.MaxPixels / 1e6:0.#} megapixels are accepted.", 413);
    }

    /// <summary>
    /// The upload as a model input: [1, 3, size, size] float32 in [−1, 1], oriented as its EXIF says, on white,
    /// the largest centred square, resized with mipmaps. Inspects first, so nothing refused is decoded.
    /// </summary>
    public static Tensor ToSquare(ReadOnlySpan<byte> bytes, int size, UploadLimits? limits = null) => PlanesToTensor(ToSquarePlanes(bytes, size, limits), size);

    /// <summary>8-bit planes [3, size, size] from <see cref="ToSquarePlanes"/> as [1, 3, size, size] float32 in [−1, 1].</summary>
    public static Tensor PlanesToTensor(byte[] planes, int size)
    {
        using var t = tensor(planes, [1, 3, size, size], ScalarType.Byte);
        return t.to(ScalarType.Float32).div_(127.5).sub_(1.0);
    }

    /// <summary>
    /// <see cref="ToSquare"/>'s pixels as 8-bit RGB planes [3, size, size], without touching TorchSharp: a worker
    /// decodes on the thread pool and hands only the planes to its device thread.
    /// </summary>
    public static byte[] ToSquarePlanes(ReadOnlySpan<byte> bytes, int size, UploadLimits? limits = null)
    {
        using var codec = Open(bytes, limits ?? UploadLimits.Default, out _);
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
        return pixels;
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
