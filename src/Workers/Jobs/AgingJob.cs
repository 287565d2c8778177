using System.Text.Json;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Storage;
using GanService.Models.Caae;
using GanService.Models.Data;
using GanService.Workers.Inference;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace GanService.Workers.Jobs;

/// <summary>
/// Runs an aging job: read the uploaded face from the blob store, decode and square it on the thread pool, then on
/// the device thread encode it once and draw it at every requested age group; store one image per age group (and the
/// strip when asked).
/// </summary>
public sealed class AgingJob(
    GanDbContext db,
    InferenceExecutor executor,
    ModelCache cache,
    VersionCatalog catalog,
    IBlobStore blobs,
    IOptions<UploadOptions> uploads,
    IOptions<WorkerOptions> options,
    ILogger<AgingJob> log) : InferenceJob(db, executor, blobs, options, log), IAgingJob
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    protected override string FailureTitle => "Aging failed";

    protected override async Task<Produced> ProduceAsync(Job job, CancellationToken ct)
    {
        var input = JsonSerializer.Deserialize<AgingInput>(job.Input, Json) ?? throw new JobInputException("The job has no input.");
        var (version, family, genders, ageGroups) = await VersionAsync(Db, catalog, job, ct);
        if (family != "caae") throw new JobInputException($"Model {job.Model} ({family}) does not age faces.");
        var config = JsonSerializer.Deserialize<CaaeConfig>(version.Config, Json) ?? throw new JobInputException($"Model {job.Model} has no config.");
        int[] ages = input.TargetAges.Select(a => Array.FindIndex(ageGroups, g => string.Equals(g, a, StringComparison.OrdinalIgnoreCase))).ToArray();
        int gender = Array.FindIndex(genders, g => string.Equals(g, input.Gender, StringComparison.OrdinalIgnoreCase));
        if (ages.Any(a => a < 0) || gender < 0) throw new JobInputException("The job names an age group or gender the model does not have.");

        byte[] upload = await ReadInputAsync(job, ct);
        var limits = uploads.Value;
        byte[] planes;
        try
        {
            planes = UploadedImage.ToSquarePlanes(upload, config.Resolution, new UploadLimits(limits.MaxBytes, limits.MaxSide, limits.MaxPixels));
        }
        catch (UploadRejectedException e)
        {
            throw new JobInputException(e.Message);
        }

        int r = config.Resolution;
        // [0] is the input as the model saw it (for the strip), then one face per target age.
        var pixels = await Executor.RunAsync(() =>
        {
            var model = cache.Caae(version, Executor.Device);
            using var scope = NewDisposeScope();
            var face = UploadedImage.PlanesToTensor(planes, r).to(Executor.Device);
            return ImageSampler.ToPixels(cat([face, model.Age(face, ages, gender)], 0));
        }, ct);

        var outputs = new List<Task<JobOutput>>();
        for (int i = 0; i < ages.Length; i++)
        {
            string drawnAs = genders[Faces.GenderAt(ages[i], gender)];   // babies are drawn without a gender
            outputs.Add(StoreAsync(job.Id, i, pixels[i + 1], r, r, 3, input.Format, input.Seed, drawnAs, ageGroups[ages[i]], ct));
        }
        if (input.Strip)
            outputs.Add(StoreAsync(job.Id, ages.Length, Strip(pixels, r), r * pixels.Length, r, 3, input.Format, input.Seed, "strip", null, ct));
        return new Produced(await Task.WhenAll(outputs), null);
    }

    private async Task<byte[]> ReadInputAsync(Job job, CancellationToken ct)
    {
        await using var blob = (job.InputKey is null ? null : await Blobs.OpenAsync(job.InputKey, ct))
            ?? throw new JobInputException("The uploaded image is no longer stored.");
        using var buffer = new MemoryStream((int)Math.Min(blob.Length, int.MaxValue));
        await blob.Content.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }

    /// <summary>Square HWC tiles side by side, left to right: one image r·tiles wide and r high.</summary>
    private static byte[] Strip(byte[][] tiles, int r)
    {
        int width = r * tiles.Length;
        var strip = new byte[width * r * 3];
        for (int t = 0; t < tiles.Length; t++)
            for (int y = 0; y < r; y++)
                Buffer.BlockCopy(tiles[t], y * r * 3, strip, (y * width + t * r) * 3, r * 3);
        return strip;
    }
}
