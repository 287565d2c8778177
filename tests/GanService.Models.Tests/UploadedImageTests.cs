using System.Buffers.Binary;
using System.Text;
using GanService.Models.Data;
using SkiaSharp;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

public sealed class UploadedImageTests
{
    private static byte[] Encode(int width, int height, Action<SKCanvas> draw, SKEncodedImageFormat format, SKAlphaType alpha = SKAlphaType.Premul)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, alpha));
        using (var canvas = new SKCanvas(bitmap)) draw(canvas);
        using var data = bitmap.Encode(format, 95);
        return data.ToArray();
    }

    private static byte[] Halves(int width, int height, SKEncodedImageFormat format) => Encode(width, height, c =>
    {
        using var red = new SKPaint { Color = SKColors.Red };
        using var blue = new SKPaint { Color = SKColors.Blue };
        c.DrawRect(0, 0, width / 2f, height, red);
        c.DrawRect(width / 2f, 0, width / 2f, height, blue);
    }, format);

    /// <summary>R, G, B in [−1, 1] of the 64×64 result at (x, y).</summary>
    private static float[] At(Tensor image, int x, int y) => image[0, TensorIndex.Colon, y, x].data<float>().ToArray();

    [Fact]
    public void Exif_orientation_is_applied_before_the_centre_crop()
    {
        // Stored 40×20: left half red, right half blue. EXIF 6 says "rotate 90° clockwise to view": the left half
        // becomes the top, so the centred square is red above blue. Ignoring the tag would give red left of blue.
        var jpeg = WithExifOrientation(Halves(40, 20, SKEncodedImageFormat.Jpeg), 6);
        Assert.Equal(new ImageHeader("jpeg", 40, 20), UploadedImage.Inspect(jpeg));
        using var upright = UploadedImage.ToSquare(jpeg, 64);
        Assert.Equal([1L, 3L, 64L, 64L], upright.shape);
        Assert.True(At(upright, 32, 8)[0] > 0.8f && At(upright, 32, 8)[2] < -0.6f, "top should be red: " + string.Join(",", At(upright, 32, 8)));
        Assert.True(At(upright, 32, 56)[2] > 0.8f && At(upright, 32, 56)[0] < -0.6f, "bottom should be blue: " + string.Join(",", At(upright, 32, 56)));

        using var plain = UploadedImage.ToSquare(Halves(40, 20, SKEncodedImageFormat.Png), 64);
        Assert.True(At(plain, 8, 32)[0] > 0.9f && At(plain, 56, 32)[2] > 0.9f, "without EXIF: red left, blue right");
    }

    [Fact]
    public void Transparency_is_composited_on_white_and_the_largest_centred_square_is_kept()
    {
        // 90×30: green in the middle third, transparent at the sides; the centred 30×30 square is all green.
        var png = Encode(90, 30, c =>
        {
            c.Clear(SKColors.Transparent);
            using var green = new SKPaint { Color = new SKColor(0, 255, 0, 128) };
            c.DrawRect(30, 0, 30, 30, green);
        }, SKEncodedImageFormat.Png, SKAlphaType.Unpremul);
        using var square = UploadedImage.ToSquare(png, 64);
        var centre = At(square, 32, 32);   // half-transparent green over white ≈ (0.5, 1, 0.5) → (0, 1, 0)
        Assert.InRange(centre[0], -0.05f, 0.05f);
        Assert.InRange(centre[1], 0.95f, 1f);
        var transparent = UploadedImage.ToSquare(Encode(8, 8, c => c.Clear(SKColors.Transparent), SKEncodedImageFormat.Webp), 64);
        Assert.Equal(new[] { 1f, 1f, 1f }, At(transparent, 4, 4));
    }

    [Fact]
    public void Hostile_uploads_are_refused_from_the_header_with_the_right_status()
    {
        var png = Halves(40, 20, SKEncodedImageFormat.Png);
        Assert.Equal(400, Refusal([]).StatusCode);
        Assert.Equal(400, Refusal(Encoding.UTF8.GetBytes("%PDF-1.7 this is not an image at all, just text")).StatusCode);
        Assert.Equal(400, Refusal(png[..20]).StatusCode);                          // cut inside the header
        Assert.Contains("truncated", Assert.Throws<UploadRejectedException>(() => UploadedImage.ToSquare(png[..(png.Length / 2)], 64)).Message);
        Assert.Equal(415, Refusal(Gif89a()).StatusCode);
        Assert.Equal(415, Refusal(Bmp()).StatusCode);
        var huge = Refusal(PngHeaderClaiming(100_000, 100_000));
        Assert.Equal(413, huge.StatusCode);
        Assert.Contains("100000×100000", huge.Message);
        var big = new byte[UploadedImage.MaxBytes + 1];
        png.CopyTo(big, 0);
        Assert.Equal(413, Refusal(big).StatusCode);
    }

    private static UploadRejectedException Refusal(byte[] bytes) => Assert.Throws<UploadRejectedException>(() => UploadedImage.Inspect(bytes));

    /// <summary>A PNG signature and an IHDR chunk (valid CRC) claiming the size, then IEND: no pixel data at all.</summary>
    private static byte[] PngHeaderClaiming(int width, int height)
    {
        var ihdr = new byte[17];
        Encoding.ASCII.GetBytes("IHDR").CopyTo(ihdr, 0);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(8), height);
        ihdr[12] = 8; ihdr[13] = 6;   // 8-bit RGBA
        var png = new List<byte> { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 };
        png.AddRange(ihdr);
        png.AddRange(BigEndian(Crc32(ihdr)));
        png.AddRange(new byte[] { 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82 });
        return [.. png];
    }

    /// <summary>A 1×1 BMP (BITMAPINFOHEADER, 24-bit).</summary>
    private static byte[] Bmp()
    {
        var b = new byte[58];
        b[0] = (byte)'B'; b[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(2), b.Length);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), 1);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), 1);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(28), 24);
        return b;
    }

    /// <summary>The smallest GIF89a (1×1, one colour); Skia decodes GIF but does not encode it.</summary>
    private static byte[] Gif89a() => Convert.FromBase64String("R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=");

    /// <summary>Inserts an APP1 Exif segment (big-endian TIFF, one IFD entry: Orientation) after the JPEG's SOI.</summary>
    private static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        var tiff = new byte[] { (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, (byte)(orientation >> 8), (byte)orientation, 0, 0, 0, 0, 0, 0 };
        var payload = Encoding.ASCII.GetBytes("Exif\0\0").Concat(tiff).ToArray();
        var segment = new byte[] { 0xFF, 0xE1, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2) }.Concat(payload);
        return jpeg[..2].Concat(segment).Concat(jpeg[2..]).ToArray();
    }

    private static byte[] BigEndian(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
