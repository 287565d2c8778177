using GanService.Workers.Inference;
using SkiaSharp;

namespace GanService.Workers.Tests;

/// <summary>Our GIF and animated WebP writers, read back by Skia's decoders (libwebp and Skia's GIF reader).</summary>
public sealed class VideoEncoderTests
{
    /// <summary>A square moving over a gradient, at most <paramref name="colours"/> distinct colours.</summary>
    private static List<byte[]> Clip(int frames, int w, int h, int colours)
    {
        var clip = new List<byte[]>();
        for (int f = 0; f < frames; f++)
        {
            var px = new byte[w * h * 3];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int i = (y * w + x) * 3;
                    bool square = x >= 2 * f && x < 2 * f + 8 && y >= 4 && y < 12;
                    int level = (x + y) * colours / (w + h);
                    px[i] = square ? (byte)250 : (byte)(level * 255 / colours);
                    px[i + 1] = square ? (byte)40 : (byte)(255 - level * 255 / colours);
                    px[i + 2] = (byte)(square ? 30 : 128);
                }
            clip.Add(px);
        }
        return clip;
    }

    private static List<byte[]> Decode(byte[] file, out SKCodec codec)
    {
        codec = SKCodec.Create(new MemoryStream(file)) ?? throw new InvalidOperationException("not an image");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var frames = new List<byte[]>();
        for (int i = 0; i < codec.FrameCount; i++)
        {
            using var bitmap = new SKBitmap(info);
            Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, bitmap.GetPixels(), new SKCodecOptions(i)));
            var rgba = bitmap.Bytes;
            var rgb = new byte[info.Width * info.Height * 3];
            for (int p = 0; p < info.Width * info.Height; p++) (rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]) = (rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]);
            frames.Add(rgb);
        }
        return frames;
    }

    [Theory]
    [InlineData("gif", 10, 24, 16, 30)]
    [InlineData("webp", 10, 24, 16, 30)]
    [InlineData("gif", 3, 7, 5, 2)]
    [InlineData("webp", 3, 7, 5, 2)]
    public void Frames_come_back_exactly_when_they_fit_the_palette(string format, int frames, int w, int h, int colours)
    {
        var clip = Clip(frames, w, h, colours);
        var file = VideoEncoder.Encode(clip, w, h, fps: 10, format);
        var decoded = Decode(file, out var codec);
        using (codec)
        {
            Assert.Equal((w, h), (codec.Info.Width, codec.Info.Height));
            Assert.Equal(frames, decoded.Count);
            Assert.All(codec.FrameInfo, f => Assert.Equal(100, f.Duration));
            Assert.Equal(-1, codec.RepetitionCount); // Skia: -1 = loops forever
        }
        for (int f = 0; f < frames; f++) Assert.Equal(clip[f], decoded[f]);
    }

    [Fact]
    public void A_gif_of_more_than_256_colours_is_close_and_its_static_pixels_stay_put()
    {
        int w = 40, h = 40;
        var rng = new Random(4);
        var background = new byte[w * h * 3];
        rng.NextBytes(background);   // ~1600 distinct colours, more than a GIF palette holds
        var clip = Enumerable.Range(0, 6).Select(f =>
        {
            var px = (byte[])background.Clone();
            for (int y = 10; y < 20; y++) for (int x = 3 * f; x < 3 * f + 10; x++) (px[(y * w + x) * 3], px[(y * w + x) * 3 + 1], px[(y * w + x) * 3 + 2]) = (255, 255, 255);
            return px;
        }).ToList();
        var decoded = Decode(VideoEncoder.Gif(clip, w, h, 8), out var codec);
        codec.Dispose();
        Assert.Equal(6, decoded.Count);
        double error = clip.Zip(decoded).Average(p => p.First.Zip(p.Second).Average(b => Math.Abs(b.First - b.Second)));
        Assert.True(error < 25, $"mean error {error:F1} of 255");
        // One palette for the whole clip: a pixel the square never covers decodes the same in every frame.
        int corner = ((h - 1) * w + (w - 1)) * 3;
        Assert.All(decoded, f => Assert.Equal(decoded[0].AsSpan(corner, 3).ToArray(), f.AsSpan(corner, 3).ToArray()));
    }

    [Fact]
    public void An_unknown_format_is_refused() =>
        Assert.Throws<ArgumentException>(() => VideoEncoder.Encode([new byte[12]], 2, 2, 8, "avi"));
}
