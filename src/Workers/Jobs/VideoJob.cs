using System.Text.Json;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Storage;
using GanService.Models;
using GanService.Models.Dcgan;
using GanService.Workers.Inference;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace GanService.Workers.Jobs;

/// <summary>
/// Runs a video job. With a VGAN model: one forward pass from the seed's latent gives the clip, its static background
/// and its mask; the job stores the video (index 0), the background as a PNG (1, label "background") and the mask as a
/// video in the same format (2, label "mask"). With an image-generation model: a latent walk, one image per frame from
/// latents spherically interpolated between the two seeds' (index 0, label "walk"). Frames are computed on the device
/// thread and encoded on the thread pool.
/// </summary>
public sealed class VideoJob(
    GanDbContext db,
    InferenceExecutor executor,
    ModelCache cache,
    VersionCatalog catalog,
    IBlobStore blobs,
    IOptions<WorkerOptions> options,
    ILogger<VideoJob> log) : InferenceJob(db, executor, blobs, options, log), IVideoJob
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    protected override string FailureTitle => "Video generation failed";

    protected override async Task<Produced> ProduceAsync(Job job, CancellationToken ct)
    {
        var input = JsonSerializer.Deserialize<VideoInput>(job.Input, Json) ?? throw new JobInputException("The job has no input.");
        var (version, family, labels, _) = await VersionAsync(Db, catalog, job, ct);
        string ffmpeg = Options.FfmpegFolder;
        if (input.Format == VideoFormats.Mp4 && !VideoEncoder.HasFfmpeg(ffmpeg))
            throw new JobInputException("mp4 needs ffmpeg on the worker that runs the job, and this one has none; ask for gif or webp.");
        string contentType = VideoFormats.ContentTypes[input.Format];

        if (input.IsWalk)
        {
            long from = input.FromSeed!.Value, to = input.ToSeed ?? throw new JobInputException("A latent walk needs toSeed.");
            int? label = labels.Length == 0 ? null
                : input.Label is null ? (int)(((from % labels.Length) + labels.Length) % labels.Length)
                : Array.FindIndex(labels, l => string.Equals(l, input.Label, StringComparison.OrdinalIgnoreCase)) is var i and >= 0 ? i
                : throw new JobInputException($"Label '{input.Label}' is not one of the model's labels.");
            var (frames, size) = await Executor.RunAsync(() =>
            {
                var g = cache.Generator(version, family, Executor.Device);
                using var scope = NewDisposeScope();
                using var mode = inference_mode();
                var ends = Latents.ForSeeds([from, to], g.LatentDim);
                var z = Latents.Slerp(ends.narrow(0, 0, 1), ends.narrow(0, 1, 1), input.Frames).to(Executor.Device);
                var y = label is int l ? full([input.Frames], l, ScalarType.Int64).to(Executor.Device) : null;
                var images = g.Generate(z, y);
                if (images.shape[1] == 1) images = images.expand(-1, 3, -1, -1);
                return (ImageSampler.ToPixels(images), g.ImageSize);
            }, ct);
            var bytes = await Task.Run(() => VideoEncoder.Encode(frames, size, size, input.Fps, input.Format, ffmpeg), ct);
            var output = await StoreFileAsync(job.Id, 0, bytes, input.Format, contentType, size, size, from,
                label is int k ? $"walk:{labels[k]}" : "walk", null, input.Frames, ct);
            return new Produced([output], null);
        }

        if (family != "vgan") throw new JobInputException($"Model {job.Model} ({family}) does not make videos from a seed; give fromSeed and toSeed for a latent walk.");
        long seed = input.Seed ?? throw new JobInputException("The job has no seed.");
        var (video, mask, background, s) = await Executor.RunAsync(() =>
        {
            var g = cache.VideoGan(version, Executor.Device);
            using var scope = NewDisposeScope();
            using var mode = inference_mode();
            using var parts = g.forward(Latents.ForSeeds([seed], g.Config.LatentDim).to(Executor.Device));
            int n = Math.Min(input.Frames, g.Config.Frames);
            // [1, C, T, H, W] → T images [C, H, W]
            var clip = parts.Video[0].narrow(1, 0, n).permute(1, 0, 2, 3);
            var maskClip = parts.Mask[0].narrow(1, 0, n).permute(1, 0, 2, 3).mul(2).sub(1).expand(-1, 3, -1, -1);
            return (ImageSampler.ToPixels(clip), ImageSampler.ToPixels(maskClip), ImageSampler.ToPixels(parts.Background)[0], g.Config.ImageSize);
        }, ct);
        var stored = await Task.WhenAll(
            Task.Run(() => StoreFileAsync(job.Id, 0, VideoEncoder.Encode(video, s, s, input.Fps, input.Format, ffmpeg), input.Format, contentType,
                s, s, seed, "video", null, video.Length, ct), ct),
            StoreAsync(job.Id, 1, background, s, s, 3, "png", seed, "background", null, ct),
            Task.Run(() => StoreFileAsync(job.Id, 2, VideoEncoder.Encode(mask, s, s, input.Fps, input.Format, ffmpeg), input.Format, contentType,
                s, s, seed, "mask", null, mask.Length, ct), ct));
        return new Produced(stored, null);
    }
}
