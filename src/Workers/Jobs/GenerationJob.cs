using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Storage;
using GanService.Workers.Inference;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Serilog.Context;

namespace GanService.Workers.Jobs;

/// <summary>Runs a generation job: claim the row, sample on the device thread, encode, store, finish once.</summary>
public sealed class GenerationJob(
    GanDbContext db,
    InferenceExecutor executor,
    VersionCatalog catalog,
    IBlobStore blobs,
    IOptions<WorkerOptions> options,
    ILogger<GenerationJob> log) : IGenerationJob
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task RunAsync(Guid jobId, CancellationToken shutdown)
    {
        // Hangfire cancels its token the moment the server starts stopping; a job already claimed gets the grace
        // period to finish instead of being thrown away and redone elsewhere.
        using var grace = new CancellationTokenSource();
        using var onShutdown = shutdown.Register(() => grace.CancelAfter(TimeSpan.FromSeconds(options.Value.ShutdownGraceSeconds)));
        var ct = grace.Token;
        using var _ = LogContext.PushProperty("JobId", jobId);
        var now = DateTimeOffset.UtcNow;
        string worker = WorkerPresence.Id;
        // Claim: only a queued job, or one whose earlier run died, is (re)started; a finished job stays finished.
        // One round trip claims, returns the row and tells listeners it started.
        var claimed = await db.Jobs.FromSql($"""
            WITH claimed AS (
                UPDATE jobs SET status = {JobStatus.Running}, attempts = attempts + 1, started_at = COALESCE(started_at, {now}),
                                device = {executor.DeviceName}, worker = {worker}
                WHERE id = {jobId} AND status IN ({JobStatus.Queued}, {JobStatus.Running})
                  AND (cancel_after IS NULL OR cancel_after > now())
                RETURNING *)
            SELECT claimed.* FROM claimed, LATERAL pg_notify({Database.JobEventsChannel}, {jobId.ToString()}) AS notified
            """).AsNoTracking().ToListAsync(ct);
        if (claimed.Count == 0)
        {
            if (await Deadlines.CancelIfExpiredAsync(db, jobId, ct) > 0)
                log.LogInformation("Job {JobId} was not started by its Cancel-After deadline; canceled", jobId);
            else
                log.LogInformation("Job {JobId} is already finished or canceled; nothing to do", jobId);
            return;
        }
        var job = claimed[0];
        using var __ = LogContext.PushProperty("TraceId", job.TraceId);
        log.LogInformation("Job {JobId} started (attempt {Attempt}) on {Device}", jobId, job.Attempts, executor.DeviceName);

        if (options.Value.HoldAfterClaimMs > 0) await Task.Delay(options.Value.HoldAfterClaimMs, ct);

        var clock = Stopwatch.StartNew();
        try
        {
            var input = JsonSerializer.Deserialize<GenerationInput>(job.Input, Json) ?? throw new JobInputException("The job has no input.");
            var (version, family, modelLabels) = (job.ModelVersionId is { } versionId ? await catalog.GetAsync(db, versionId, ct) : null)
                ?? throw new JobInputException($"Model version {job.ModelVersion} of {job.Model} is no longer available.");

            var seeds = Enumerable.Range(0, input.Count).Select(i => unchecked(input.Seed + i)).ToArray();
            int[]? labels = LabelsFor(modelLabels, input.Label, seeds);
            // Encoding and blob writes below run on the thread pool while the device thread computes the next batch.
            var (pixels, size, channels, batchImages, _) = await executor.SampleAsync(version, family, new SampleRequest(seeds, labels, input.Truncation), ct);

            var contentType = ImageFormats.ContentTypes[input.Format];
            var outputs = await Task.WhenAll(pixels.Select(async (p, i) =>
            {
                var bytes = ImageEncoder.Encode(p, size, size, channels, input.Format);
                var key = JobBlobs.Key(jobId, $"{i}.{input.Format}");
                await blobs.PutAsync(key, bytes, contentType, ct);
                return new JobOutput
                {
                    Id = Guid.NewGuid(), JobId = jobId, Index = i, BlobKey = key, ContentType = contentType,
                    Width = size, Height = size, Seed = seeds[i], Label = labels is null ? null : modelLabels[labels[i]],
                    Bytes = bytes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
                };
            }));

            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await db.JobOutputs.Where(o => o.JobId == jobId).ExecuteDeleteAsync(ct);
            db.JobOutputs.AddRange(outputs);
            await db.SaveChangesAsync(ct);
            long runMs = clock.ElapsedMilliseconds;
            var completed = DateTimeOffset.UtcNow;
            int finished = await db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Running)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(j => j.Status, JobStatus.Succeeded)
                    .SetProperty(j => j.Progress, 1.0)
                    .SetProperty(j => j.CompletedAt, completed)
                    .SetProperty(j => j.RunMs, runMs)
                    .SetProperty(j => j.BatchImages, batchImages)
                    .SetProperty(j => j.QueueMs, j => j.QueueMs ?? (long)(j.StartedAt!.Value - j.CreatedAt).TotalMilliseconds), ct);
            if (finished == 0)
            {
                await tx.RollbackAsync(ct);
                log.LogInformation("Job {JobId} was canceled while running; results discarded", jobId);
                return;
            }
            await JobEvents.NotifyAsync(db, jobId, ct);
            await tx.CommitAsync(ct);
            log.LogInformation("Job {JobId} succeeded: {Count} images in {ElapsedMs} ms", jobId, outputs.Length, runMs);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            bool final = e is JobInputException || job.Attempts >= options.Value.MaxAttempts;
            if (!final)
            {
                log.LogWarning(e, "Job {JobId} attempt {Attempt} failed; Hangfire will retry", jobId, job.Attempts);
                throw;
            }
            log.LogError(e, "Job {JobId} failed after {Attempts} attempts", jobId, job.Attempts);
            var problem = e is JobInputException
                ? Problems.Json("The job's input cannot be served", e.Message, 422)
                : Problems.Json("Generation failed", "The worker could not complete this job; it was tried " + job.Attempts + " times.");
            db.ChangeTracker.Clear();
            await JobStates.FailAsync(db, jobId, problem, CancellationToken.None);
        }
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
