using System.Buffers.Binary;
using System.Text;
using SkiaSharp;

namespace GanService.Tests.Shared;

/// <summary>Images the upload tests send: real encodings drawn with Skia, and hand-made hostile files.</summary>
public static class TestImages
{
    public static byte[] Encode(int width, int height, Action<SKCanvas> draw, SKEncodedImageFormat format, SKAlphaType alpha = SKAlphaType.Premul)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, alpha));
        using (var canvas = new SKCanvas(bitmap)) draw(canvas);
        using var data = bitmap.Encode(format, 95);
        return data.ToArray();
    }

    /// <summary>A cartoon face (yellow disc, eyes, smile) centred on a transparent <paramref name="width"/>×<paramref name="height"/>
    /// canvas, with a red bar along the top edge so that orientation shows.</summary>
    public static void DrawFace(SKCanvas c, int width, int height)
    {
        c.Clear(SKColors.Transparent);
        float r = Math.Min(width, height) * 0.4f, cx = width / 2f, cy = height / 2f;
        using var skin = new SKPaint { Color = new SKColor(0xFF, 0xC8, 0x3D), IsAntialias = true };
        using var dark = new SKPaint { Color = new SKColor(0x40, 0x2A, 0x10), IsAntialias = true };
        using var mouth = new SKPaint { Color = new SKColor(0x40, 0x2A, 0x10), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = r * 0.08f };
        using var red = new SKPaint { Color = SKColors.Red };
        c.DrawCircle(cx, cy, r, skin);
        c.DrawCircle(cx - r * 0.35f, cy - r * 0.2f, r * 0.1f, dark);
        c.DrawCircle(cx + r * 0.35f, cy - r * 0.2f, r * 0.1f, dark);
        c.DrawArc(SKRect.Create(cx - r * 0.45f, cy, r * 0.9f, r * 0.5f), 20, 140, false, mouth);
        c.DrawRect(0, 0, width, height * 0.06f, red);
    }

    public static byte[] Face(int width, int height, SKEncodedImageFormat format) => Encode(width, height, c => DrawFace(c, width, height), format);

    /// <summary>Inserts an APP1 Exif segment (big-endian TIFF, one IFD entry: Orientation) after the JPEG's SOI.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        var tiff = new byte[] { (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, (byte)(orientation >> 8), (byte)orientation, 0, 0, 0, 0, 0, 0 };
        var payload = Encoding.ASCII.GetBytes("Exif\0\0").Concat(tiff).ToArray();
        var segment = new byte[] { 0xFF, 0xE1, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2) }.Concat(payload);
        return jpeg[..2].Concat(segment).Concat(jpeg[2..]).ToArray();
    }

    /// <summary>A PNG signature and an IHDR chunk (valid CRC) claiming the size, then IEND: no pixel data at all.</summary>
    public static byte[] PngHeaderClaiming(int width, int height)
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

    /// <summary>A real JPEG whose start-of-frame is rewritten to claim <paramref name="width"/>×<paramref name="height"/>
    /// (at most 65535 each): the entropy-coded data is that of a 16×16 image.</summary>
    public static byte[] JpegClaiming(int width, int height)
    {
        var jpeg = Encode(16, 16, c => c.Clear(SKColors.Gray), SKEncodedImageFormat.Jpeg);
        for (int i = 2; i + 9 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 7), (ushort)width);
                return jpeg;
            }
        throw new InvalidOperationException("no SOF marker in Skia's JPEG");
    }

    /// <summary>A 1×1 BMP (BITMAPINFOHEADER, 24-bit).</summary>
    public static byte[] Bmp()
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
    public static byte[] Gif89a() => Convert.FromBase64String("R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=");

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
