using System.Text.Json;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Storage;
using GanService.Workers.Inference;
using Microsoft.Extensions.Options;

namespace GanService.Workers.Jobs;

/// <summary>Runs a generation job: sample on the device thread (batched with others), encode, store.</summary>
public sealed class GenerationJob(
    GanDbContext db,
    InferenceExecutor executor,
    VersionCatalog catalog,
    IBlobStore blobs,
    IOptions<WorkerOptions> options,
    ILogger<GenerationJob> log) : InferenceJob(db, executor, blobs, options, log), IGenerationJob
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    protected override string FailureTitle => "Generation failed";

    protected override async Task<Produced> ProduceAsync(Job job, CancellationToken ct)
    {
        var input = JsonSerializer.Deserialize<GenerationInput>(job.Input, Json) ?? throw new JobInputException("The job has no input.");
        var (version, family, modelLabels, _) = await VersionAsync(Db, catalog, job, ct);
        var seeds = Enumerable.Range(0, input.Count).Select(i => unchecked(input.Seed + i)).ToArray();
        int[]? labels = LabelsFor(modelLabels, input.Label, seeds);
        // Encoding and blob writes below run on the thread pool while the device thread computes the next batch.
        var (pixels, size, channels, batchImages, _) = await Executor.SampleAsync(version, family, new SampleRequest(seeds, labels, input.Truncation), ct);
        var outputs = await Task.WhenAll(pixels.Select((p, i) =>
            StoreAsync(job.Id, i, p, size, size, channels, input.Format, seeds[i], labels is null ? null : modelLabels[labels[i]], null, ct)));
        return new Produced(outputs, batchImages);
    }

    /// <summary>The requested label for every image, or (conditional model, no label) label (seed mod classes) per image.</summary>
    private static int[]? LabelsFor(string[] modelLabels, string? label, long[] seeds)
    {
        if (modelLabels.Length == 0) return null;
        if (label is not null)
        {
            int index = Array.FindIndex(modelLabels, l => string.Equals(l, label, StringComparison.OrdinalIgnoreCase));
            if (index < 0) throw new JobInputException($"Label '{label}' is not one of the model's labels.");
            return seeds.Select(_ => index).ToArray();
        }
        return seeds.Select(s => (int)(((s % modelLabels.Length) + modelLabels.Length) % modelLabels.Length)).ToArray();
    }
}
