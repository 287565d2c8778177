using System.Buffers.Binary;
using System.Text;
using GanService.Models.Data;
using GanService.Tests.Shared;
using static GanService.Tests.Shared.TestImages;
using SkiaSharp;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

public sealed class UploadedImageTests
{
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
        // Cut after the header: refused by Inspect (the chunk, segment or RIFF structure ends early), before any decode.
        var jpeg = Halves(40, 20, SKEncodedImageFormat.Jpeg);
        var webp = Halves(40, 20, SKEncodedImageFormat.Webp);
        foreach (var whole in new[] { png, jpeg, webp })
        {
            Assert.NotNull(UploadedImage.Inspect(whole));
            Assert.NotNull(UploadedImage.Inspect([.. whole, .. "trailer after the end"u8.ToArray()]));
            Assert.Contains("truncated", Refusal(whole[..(whole.Length - 3)]).Message);
        }
        Assert.Contains("truncated", Assert.Throws<UploadRejectedException>(() => UploadedImage.ToSquare(png[..(png.Length / 2)], 64)).Message);
        Assert.Equal(415, Refusal(Gif89a()).StatusCode);
        Assert.Equal(415, Refusal(Bmp()).StatusCode);
        var huge = Refusal(PngHeaderClaiming(100_000, 100_000));
        Assert.Equal(413, huge.StatusCode);
        Assert.Contains("100000×100000", huge.Message);
        Assert.Equal(413, Refusal(JpegClaiming(65_000, 65_000)).StatusCode);
        var big = new byte[UploadLimits.Default.MaxBytes + 1];
        png.CopyTo(big, 0);
        Assert.Equal(413, Refusal(big).StatusCode);
    }

    [Fact]
    public void Size_limits_are_the_contracts_by_default_and_configurable()
    {
        // 4096 a side and 16 MP by default: a 12 MP phone photo (4032×3024) passes, 5000×3000 does not.
        Assert.Equal(new ImageHeader("jpeg", 4032, 3024), UploadedImage.Inspect(JpegClaiming(4032, 3024)));
        Assert.Equal(413, Refusal(PngHeaderClaiming(5000, 3000)).StatusCode);
        Assert.Equal(413, Refusal(JpegClaiming(5000, 3000)).StatusCode);
        Assert.Equal(413, Refusal(PngHeaderClaiming(4096, 4096)).StatusCode);   // 16.8 MP
        var wider = new UploadLimits(MaxSide: 8192, MaxPixels: 40_000_000);
        Assert.Equal(new ImageHeader("jpeg", 5000, 3000), UploadedImage.Inspect(JpegClaiming(5000, 3000), wider));
        var small = new UploadLimits(MaxBytes: 50);
        Assert.Equal(413, Assert.Throws<UploadRejectedException>(() => UploadedImage.Inspect(Halves(40, 20, SKEncodedImageFormat.Png), small)).StatusCode);
    }

    private static UploadRejectedException Refusal(byte[] bytes) => Assert.Throws<UploadRejectedException>(() => UploadedImage.Inspect(bytes));
}
