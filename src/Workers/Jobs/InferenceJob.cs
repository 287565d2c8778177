using System.Diagnostics;
using System.Security.Cryptography;
using GanService.Core;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Storage;
using GanService.Workers.Inference;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Serilog.Context;

namespace GanService.Workers.Jobs;

/// <summary>
/// What every job that runs a model once and stores images shares: claim the row (a finished job stays finished),
/// let the subclass produce the outputs, then in one transaction replace any earlier attempt's outputs and mark the
/// job succeeded (unless it was canceled meanwhile); on a last failed attempt, or input it cannot serve, mark it failed.
/// </summary>
public abstract class InferenceJob(
    GanDbContext db,
    InferenceExecutor executor,
    IBlobStore blobs,
    IOptions<WorkerOptions> options,
    ILogger log)
{
    protected GanDbContext Db => db;
    protected InferenceExecutor Executor => executor;
    protected IBlobStore Blobs => blobs;
    protected WorkerOptions Options => options.Value;

    /// <summary>The outputs of a run, and the images in the forward pass that made them (when batched).</summary>
    protected sealed record Produced(IReadOnlyList<JobOutput> Outputs, int? BatchImages);

    /// <summary>Title of the problem a job that failed for good carries ("Generation failed").</summary>
    protected abstract string FailureTitle { get; }

    /// <summary>Runs the model for <paramref name="job"/> (claimed, status running) and stores its outputs.</summary>
    protected abstract Task<Produced> ProduceAsync(Job job, CancellationToken ct);

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
        Telemetry.JobStarted(job.Kind, job.Attempts, job.CreatedAt, job.StartedAt ?? now);

        if (options.Value.HoldAfterClaimMs > 0) await Task.Delay(options.Value.HoldAfterClaimMs, ct);

        var clock = Stopwatch.StartNew();
        try
        {
            var (outputs, batchImages) = await ProduceAsync(job, ct);

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
            log.LogInformation("Job {JobId} succeeded: {Count} images in {ElapsedMs} ms", jobId, outputs.Count, runMs);
            Telemetry.JobFinished(job.Kind, job.Model, JobStatus.Succeeded, runMs / 1000.0, outputs.Count);
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
                : Problems.Json(FailureTitle, "The worker could not complete this job; it was tried " + job.Attempts + " times.");
            db.ChangeTracker.Clear();
            await JobStates.FailAsync(db, jobId, problem, CancellationToken.None);
            Telemetry.JobFinished(job.Kind, job.Model, JobStatus.Failed);
        }
    }

    /// <summary>The job's model version, or <see cref="JobInputException"/> when it is gone.</summary>
    protected static async Task<VersionCatalog.Entry> VersionAsync(GanDbContext db, VersionCatalog catalog, Job job, CancellationToken ct) =>
        (job.ModelVersionId is { } versionId ? await catalog.GetAsync(db, versionId, ct) : null)
        ?? throw new JobInputException($"Model version {job.ModelVersion} of {job.Model} is no longer available.");

    /// <summary>Encodes 8-bit HWC <paramref name="pixels"/> as <paramref name="format"/>, stores it as the job's file
    /// <c>{index}.{format}</c> and describes it. Runs on the thread pool (several at once while the device computes).</summary>
    protected Task<JobOutput> StoreAsync(Guid jobId, int index, byte[] pixels, int width, int height, int channels, string format, long seed,
        string? label, string? ageGroup, CancellationToken ct) =>
        StoreFileAsync(jobId, index, ImageEncoder.Encode(pixels, width, height, channels, format), format, ImageFormats.ContentTypes[format],
            width, height, seed, label, ageGroup, null, ct);

    /// <summary>Stores encoded <paramref name="bytes"/> as the job's file <c>{index}.{extension}</c> and describes it.</summary>
    protected async Task<JobOutput> StoreFileAsync(Guid jobId, int index, byte[] bytes, string extension, string contentType, int width, int height,
        long seed, string? label, string? ageGroup, int? frames, CancellationToken ct)
    {
        var key = JobBlobs.Key(jobId, $"{index}.{extension}");
        await blobs.PutAsync(key, bytes, contentType, ct);
        return new JobOutput
        {
            Id = Guid.NewGuid(), JobId = jobId, Index = index, BlobKey = key, ContentType = contentType,
            Width = width, Height = height, Seed = seed, Label = label, AgeGroup = ageGroup, Frames = frames,
            Bytes = bytes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
        };
    }
}
