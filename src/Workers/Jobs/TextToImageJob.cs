using System.Text.Json;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Storage;
using GanService.Models.StackGan;
using GanService.Workers.Inference;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace GanService.Workers.Jobs;

/// <summary>
/// Runs a text-to-image job on the device thread: read the prompt with the model's caption encoder, then draw each
/// seed's Stage-I image and (with a Stage-II) its final image, one seed at a time, so an image never depends on the
/// job's count. Stores the finals (label <c>stage-two</c>, or <c>stage-one</c> for a model without Stage-II), then,
/// when asked, each seed's Stage-I image (label <c>stage-one</c>), and records in the job's detail how the prompt read.
/// </summary>
public sealed class TextToImageJob(
    GanDbContext db,
    InferenceExecutor executor,
    ModelCache cache,
    VersionCatalog catalog,
    IBlobStore blobs,
    IOptions<WorkerOptions> options,
    ILogger<TextToImageJob> log) : InferenceJob(db, executor, blobs, options, log), ITextToImageJob
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    protected override string FailureTitle => "Text-to-image failed";

    protected override async Task<Produced> ProduceAsync(Job job, CancellationToken ct)
    {
        var input = JsonSerializer.Deserialize<TextToImageInput>(job.Input, Json) ?? throw new JobInputException("The job has no input.");
        var (version, family, _, _) = await VersionAsync(Db, catalog, job, ct);
        if (family != "stackgan") throw new JobInputException($"Model {job.Model} ({family}) does not draw from text.");
        var seeds = Enumerable.Range(0, input.Count).Select(i => unchecked(input.Seed + i)).ToArray();

        var drawn = await Executor.RunAsync(() =>
        {
            var model = cache.StackGan(version, Executor.Device);
            using var scope = NewDisposeScope();
            var (text, reading) = model.Embed(input.Prompt);
            var (low, high) = model.Draw(text, seeds);
            return (Finals: ImageSampler.ToPixels(high ?? low), StageOne: high is not null && input.IncludeStageOne ? ImageSampler.ToPixels(low) : [],
                Size: model.ImageSize, HasStageTwo: high is not null, Reading: reading);
        }, ct);

        string detail = JsonSerializer.Serialize(drawn.Reading, Json);
        await Db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.Detail, detail), ct);
        string finalLabel = drawn.HasStageTwo ? "stage-two" : "stage-one";
        var outputs = new List<Task<JobOutput>>();
        for (int i = 0; i < seeds.Length; i++)
            outputs.Add(StoreAsync(job.Id, i, drawn.Finals[i], drawn.Size, drawn.Size, 3, input.Format, seeds[i], finalLabel, null, ct));
        for (int i = 0; i < drawn.StageOne.Length; i++)
            outputs.Add(StoreAsync(job.Id, seeds.Length + i, drawn.StageOne[i], StageOneConfig.ImageSize, StageOneConfig.ImageSize, 3, input.Format,
                seeds[i], "stage-one", null, ct));
        return new Produced(await Task.WhenAll(outputs), null);
    }
}
