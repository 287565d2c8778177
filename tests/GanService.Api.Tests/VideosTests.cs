using System.Diagnostics;
using System.Net;
using System.Text.Json;
using SkiaSharp;

namespace GanService.Api.Tests;

/// <summary>POST /v1/videos over real HTTP, with the real worker running the shipped VGAN and DCGAN.</summary>
[Collection(ServiceCollection.Name)]
public sealed class VideosTests(ServiceHost host)
{
    private readonly HttpClient client = host.Client;

    private async Task<JsonElement> VideoAsync(string body)
    {
        var (response, job) = await client.PostAsync("/v1/videos", body, ("Prefer", "wait=60"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {job}");
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        Assert.Equal("video", job.GetProperty("kind").GetString());
        return job;
    }

    /// <summary>Every frame of an animated GIF or WebP, decoded by Skia (libwebp, Skia's GIF reader), as RGBA bitmaps.</summary>
    private static List<SKBitmap> Frames(byte[] animation)
    {
        using var codec = SKCodec.Create(new MemoryStream(animation)) ?? throw new InvalidOperationException("not an image");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var frames = new List<SKBitmap>();
        for (int i = 0; i < Math.Max(1, codec.FrameCount); i++)
        {
            var bitmap = new SKBitmap(info);
            var result = codec.GetPixels(info, bitmap.GetPixels(), new SKCodecOptions(i));
            Assert.True(result == SKCodecResult.Success, $"frame {i}: {result}");
            frames.Add(bitmap);
        }
        return frames;
    }

    private static double MeanDifference(SKBitmap a, SKBitmap b)
    {
        double sum = 0;
        for (int y = 0; y < a.Height; y++)
            for (int x = 0; x < a.Width; x++)
            {
                SKColor p = a.GetPixel(x, y), q = b.GetPixel(x, y);
                sum += Math.Abs(p.Red - q.Red) + Math.Abs(p.Green - q.Green) + Math.Abs(p.Blue - q.Blue);
            }
        return sum / (3.0 * a.Width * a.Height);
    }

    [Fact]
    public async Task A_clip_comes_with_its_static_background_and_mask_and_is_their_blend()
    {
        var job = await VideoAsync("""{"seed":7,"format":"webp"}""");
        Assert.Equal("vgan-moving-fashion", job.GetProperty("model").GetString());
        // The input as the job stores it: what was asked, with its defaults, and nothing internal.
        Assert.Equal(["format", "fps", "frames", "fromSeed", "label", "seed", "toSeed"],
            job.GetProperty("input").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var outputs = job.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(["video", "background", "mask"], outputs.Select(o => o.GetProperty("label").GetString()));
        Assert.Equal(["image/webp", "image/png", "image/webp"], outputs.Select(o => o.GetProperty("contentType").GetString()));
        Assert.All(outputs, o => Assert.Equal((32, 32, 7L), (o.GetProperty("width").GetInt32(), o.GetProperty("height").GetInt32(), o.GetProperty("seed").GetInt64())));
        Assert.Equal(16, outputs[0].GetProperty("frames").GetInt32());
        Assert.False(outputs[1].TryGetProperty("frames", out _));

        var video = Frames(await client.DownloadAsync(outputs[0]));
        var mask = Frames(await client.DownloadAsync(outputs[2]));
        using var background = SKBitmap.Decode(await client.DownloadAsync(outputs[1]));
        Assert.Equal(16, video.Count);
        Assert.Equal(16, mask.Count);
        Assert.All(video, f => Assert.Equal((32, 32), (f.Width, f.Height)));

        // Motion: consecutive frames differ (a still clip would be 0).
        var steps = video.Zip(video.Skip(1), MeanDifference).ToList();
        Assert.True(steps.Average() > 0.5, $"mean frame-to-frame change {steps.Average():F2} of 255");
        // The video is mask⊙fg + (1−mask)⊙bg, so a frame differs from the background by at most the mask (in 8-bit
        // units, with a little rounding); lossless WebP keeps the bytes. A mask or background from another clip, or a
        // frame out of order, breaks this almost everywhere.
        int violations = 0, masked = 0;
        for (int f = 0; f < 16; f++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                {
                    SKColor v = video[f].GetPixel(x, y), b = background.GetPixel(x, y), m = mask[f].GetPixel(x, y);
                    int bound = m.Red + 2, diff = Math.Max(Math.Abs(v.Red - b.Red), Math.Max(Math.Abs(v.Green - b.Green), Math.Abs(v.Blue - b.Blue)));
                    if (diff > bound) violations++;
                    if (m.Red < 250) masked++;
                }
        Assert.True(violations == 0, $"{violations} of {16 * 32 * 32} pixels differ from the background by more than their mask allows");
        Assert.True(masked > 16 * 32 * 32 / 20, $"the mask is (nearly) fully on at all but {masked} pixels: nothing of the background shows");
        // The mask is grey: R = G = B.
        Assert.All(mask, f => Assert.True(Enumerable.Range(0, 32 * 32).All(i => f.GetPixel(i % 32, i / 32) is var c && c.Red == c.Green && c.Green == c.Blue)));

        // The same clip as an animated GIF: 16 frames of 32×32.
        var gif = await VideoAsync("""{"seed":7,"format":"gif"}""");
        Assert.Equal(["image/gif", "image/png", "image/gif"], gif.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("contentType").GetString()));
        var gifFrames = Frames(await client.DownloadAsync(gif.GetProperty("outputs")[0]));
        Assert.Equal(16, gifFrames.Count);
        Assert.True(gifFrames.Zip(video).Average(p => MeanDifference(p.First, p.Second)) < 12, "the GIF's palette keeps the frames close to the lossless ones");
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_video_and_frames_and_format_are_honoured()
    {
        var a = await VideoAsync("""{"seed":11,"format":"webp","frames":8,"fps":12}""");
        var b = await VideoAsync("""{"seed":11,"format":"webp","frames":8,"fps":12}""");
        var c = await VideoAsync("""{"seed":12,"format":"webp","frames":8,"fps":12}""");
        string Sha(JsonElement job, int i) => job.GetProperty("outputs")[i].GetProperty("url").GetString()!;
        byte[] va = await client.DownloadAsync(a.GetProperty("outputs")[0]), vb = await client.DownloadAsync(b.GetProperty("outputs")[0]),
            vc = await client.DownloadAsync(c.GetProperty("outputs")[0]);
        Assert.Equal(Http.Sha(va), Http.Sha(vb));
        Assert.NotEqual(Http.Sha(va), Http.Sha(vc));
        Assert.NotEqual(Sha(a, 0), Sha(b, 0)); // two jobs, two files
        Assert.Equal("image/webp", a.GetProperty("outputs")[0].GetProperty("contentType").GetString());
        var frames = Frames(va);
        Assert.Equal(8, frames.Count);
        Assert.Equal(8, a.GetProperty("outputs")[0].GetProperty("frames").GetInt32());
        using var codec = SKCodec.Create(new MemoryStream(va));
        Assert.All(codec.FrameInfo, f => Assert.Equal(83, f.Duration)); // 1000 / 12 ms
    }

    [Fact]
    public async Task An_mp4_is_h264_with_every_frame()
    {
        var job = await VideoAsync("""{"seed":3,"format":"mp4"}""");
        var output = job.GetProperty("outputs")[0];
        Assert.Equal("video/mp4", output.GetProperty("contentType").GetString());
        var file = Path.Combine(host.Scratch, $"video-{Guid.NewGuid():N}.mp4");
        Directory.CreateDirectory(host.Scratch);
        await File.WriteAllBytesAsync(file, await client.DownloadAsync(output));
        var probe = Process.Start(new ProcessStartInfo("ffprobe",
            ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", file])
            { RedirectStandardOutput = true })!;
        string line = (await probe.StandardOutput.ReadToEndAsync()).Trim();
        await probe.WaitForExitAsync();
        Assert.Equal("h264,32,32,16", line);
    }

    [Fact]
    public async Task A_latent_walk_starts_and_ends_at_the_two_seeds_images()
    {
        var walk = await VideoAsync("""{"model":"dcgan-fashion","fromSeed":21,"toSeed":42,"frames":10,"label":"bag","format":"webp"}""");
        var output = walk.GetProperty("outputs")[0];
        Assert.Equal("walk:bag", output.GetProperty("label").GetString());
        Assert.Equal(1, walk.GetProperty("outputs").GetArrayLength());
        var frames = Frames(await client.DownloadAsync(output));
        Assert.Equal(10, frames.Count);
        var first = await client.GenerateAsync("""{"seed":21,"label":"bag"}""");
        var last = await client.GenerateAsync("""{"seed":42,"label":"bag"}""");
        using var firstImage = SKBitmap.Decode(await client.DownloadAsync(first.GetProperty("outputs")[0]));
        using var lastImage = SKBitmap.Decode(await client.DownloadAsync(last.GetProperty("outputs")[0]));
        // Lossless WebP frames: the ends are the generation endpoint's images exactly; in between, the walk moves.
        Assert.Equal(0, MeanDifference(frames[0], firstImage));
        Assert.Equal(0, MeanDifference(frames[^1], lastImage));
        Assert.True(MeanDifference(frames[0], frames[^1]) > 5);
        Assert.All(frames.Zip(frames.Skip(1), MeanDifference), d => Assert.True(d < MeanDifference(frames[0], frames[^1]), "each step is smaller than the whole walk"));
    }

    [Theory]
    [InlineData("frames 0", """{"frames":0}""", "frames")]
    [InlineData("frames past the clip", """{"frames":17}""", "frames")]
    [InlineData("frames huge", """{"frames":100000}""", "frames")]
    [InlineData("frames as a string", """{"frames":"ten"}""", "frames")]
    [InlineData("unknown format", """{"format":"avi"}""", "format")]
    [InlineData("format as a number", """{"format":3}""", "format")]
    [InlineData("fps 0", """{"fps":0}""", "fps")]
    [InlineData("seed as a string", """{"seed":"abc"}""", "seed")]
    [InlineData("unknown model", """{"model":"no-such-model"}""", "model")]
    [InlineData("an aging model", """{"model":"caae-faces"}""", "model")]
    [InlineData("walk seeds on a video model", """{"fromSeed":1,"toSeed":2}""", "fromSeed")]
    [InlineData("label on a video model", """{"label":"bag"}""", "label")]
    [InlineData("walk without toSeed", """{"model":"dcgan-fashion","fromSeed":1}""", "toSeed")]
    [InlineData("walk with seed", """{"model":"dcgan-fashion","fromSeed":1,"toSeed":2,"seed":3}""", "seed")]
    [InlineData("walk of 1000 frames", """{"model":"dcgan-fashion","fromSeed":1,"toSeed":2,"frames":1000}""", "frames")]
    [InlineData("walk with an unknown label", """{"model":"dcgan-fashion","fromSeed":1,"toSeed":2,"label":"hat"}""", "label")]
    [InlineData("misspelt field", """{"frame":4}""", "frame")]
    public async Task Bad_video_requests_answer_400_naming_the_field_and_queue_nothing(string _, string body, string field)
    {
        long before = await host.JobCountAsync();
        var (response, problem) = await client.PostAsync("/v1/videos", body, ("Prefer", "wait=5"));
        Http.AssertProblem(response, problem, HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Fact]
    public async Task The_video_model_is_listed_with_its_kind_and_metrics()
    {
        var (response, models) = await client.GetJsonAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var vgan = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "vgan-moving-fashion");
        Assert.Equal(("video", "vgan", true, 32), (vgan.GetProperty("kind").GetString(), vgan.GetProperty("family").GetString(),
            vgan.GetProperty("isDefault").GetBoolean(), vgan.GetProperty("resolution").GetInt32()));
        Assert.Equal(16, vgan.GetProperty("config").GetProperty("frames").GetInt32());
        Assert.True(vgan.GetProperty("metrics").GetProperty("frechet").GetProperty("generated").GetDouble() > 0);
    }
}

/// <summary>A host whose only worker has no ffmpeg (Worker__FfmpegFolder points at an empty folder).</summary>
public sealed class NoFfmpegHost : ServiceHost
{
    protected override IReadOnlyDictionary<string, string> ExtraEnv => new Dictionary<string, string>
    {
        ["Worker__FfmpegFolder"] = Path.Combine(Scratch, "no-ffmpeg-here"),
    };
}

[CollectionDefinition(Name)]
public sealed class NoFfmpegCollection : ICollectionFixture<NoFfmpegHost>
{
    public const string Name = "no-ffmpeg";
}

[Collection(NoFfmpegCollection.Name)]
public sealed class VideosWithoutFfmpegTests(NoFfmpegHost host)
{
    [Fact]
    public async Task Mp4_is_refused_when_no_worker_can_write_it_and_gif_still_works()
    {
        // The worker says what it can write; the API reads that before accepting mp4.
        await ServiceHost.WaitUntilAsync(async () => await host.ScalarAsync<long>("SELECT count(*) FROM workers") > 0,
            TimeSpan.FromSeconds(30), "the worker's heartbeat");
        Assert.Equal(["gif", "webp"], (await host.ScalarAsync<string[]>("SELECT video_formats FROM workers"))!);
        long before = await host.JobCountAsync();
        var (response, problem) = await host.Client.PostAsync("/v1/videos", """{"seed":1,"format":"mp4"}""");
        Http.AssertProblem(response, problem, HttpStatusCode.BadRequest, "format");
        Assert.Contains("ffmpeg", problem.GetProperty("errors").GetProperty("format")[0].GetString());
        Assert.Equal(before, await host.JobCountAsync());

        var (ok, job) = await host.Client.PostAsync("/v1/videos", """{"seed":1,"format":"gif","frames":4}""", ("Prefer", "wait=30"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
    }
}
