using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace GanService.Api.Jobs;

/// <summary>
/// Writes an accepted job's row, then hands it to the queue. If the process dies in between, the row stays queued
/// with no enqueued_at and the workers' reconciler enqueues it: an accepted job is never lost.
/// </summary>
public sealed class JobSubmitter(GanDbContext db, IJobQueue queue, IBlobStore blobs, Microsoft.Extensions.Options.IOptions<ApiOptions> options, ILogger<JobSubmitter> log, TimeProvider clock)
{
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    /// <param name="QueuedAlready">Set when the key already has its maximum of queued jobs: nothing was written.</param>
    public sealed record Outcome(Job Job, bool Replayed, bool Conflict, int? QueuedAlready = null);

    /// <param name="fingerprint">The request as the client sent it (before defaults such as a drawn seed), so a retry
    /// of the same request matches and a different request under the same key does not.</param>
    /// <remarks>A job that comes with an input file (<see cref="Job.InputKey"/>, stored by the caller) that ends up not
    /// written (a replay, a full queue, a failed insert) has that file deleted again.</remarks>
    public async Task<Outcome> SubmitAsync(Job job, string? idempotencyKey, string fingerprint, CancellationToken ct)
    {
        Outcome? outcome = null;
        try
        {
            outcome = await WriteAndEnqueueAsync(job, idempotencyKey, fingerprint, ct);
            if (outcome.Job == job && outcome.QueuedAlready is null)
                GanService.Core.Telemetry.JobsSubmitted.Add(1, GanService.Core.Telemetry.Tag("kind", job.Kind), GanService.Core.Telemetry.Tag("model", job.Model));
            return outcome;
        }
        finally
        {
            if (job.InputKey is { } key && (outcome is null || outcome.Job != job || outcome.QueuedAlready is not null))
            {
                try { await blobs.DeleteAsync(key, CancellationToken.None); }
                catch (Exception e) { log.LogWarning(e, "Could not delete the unused input file {Key}", key); }
            }
        }
    }

    private async Task<Outcome> WriteAndEnqueueAsync(Job job, string? idempotencyKey, string fingerprint, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (idempotencyKey is not null)
        {
            job.IdempotencyKey = idempotencyKey;
            job.RequestHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{job.Kind}\n{fingerprint}")));
            var existing = await FindByKeyAsync(job.ApiKeyId, idempotencyKey, ct);
            if (existing is not null)
            {
                if (existing.CreatedAt >= now - IdempotencyWindow)
                    return new Outcome(existing, Replayed: true, Conflict: existing.RequestHash != job.RequestHash);
                // Older than the window: the key is free again.
                await db.Jobs.Where(j => j.Id == existing.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.IdempotencyKey, (string?)null), ct);
            }
        }

        if (options.Value.MaxQueuedJobsPerKey > 0)
        {
            int queued = await db.Jobs.CountAsync(j => j.ApiKeyId == job.ApiKeyId && j.Status == JobStatus.Queued, ct);
            if (queued >= options.Value.MaxQueuedJobsPerKey) return new Outcome(job, Replayed: false, Conflict: false, QueuedAlready: queued);
        }

        if (job.Id == Guid.Empty) job.Id = Guid.CreateVersion7();   // an aging job's id is chosen first: its upload is stored under it
        job.Status = JobStatus.Queued;
        job.CreatedAt = now;
        job.TraceId = Activity.Current?.TraceId.ToString();
        db.Jobs.Add(job);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } && idempotencyKey is not null)
        {
            // The same key raced us; answer with the job that won.
            db.ChangeTracker.Clear();
            var winner = await FindByKeyAsync(job.ApiKeyId, idempotencyKey, ct);
            return new Outcome(winner!, Replayed: true, Conflict: winner!.RequestHash != job.RequestHash);
        }

        using (log.BeginScope(new Dictionary<string, object> { ["JobId"] = job.Id }))
        {
            try
            {
                // The row stays locked while it is handed to the queue. The reconciler's sweep for rows never enqueued
                // skips locked rows; had it taken this one first (an enqueue slower than Worker:ReconcileGraceSeconds,
                // seen when a burst hit a fresh API), it has enqueued and stamped it, and enqueueing again here would
                // deliver the job twice and run it twice (a CI run saw one job's images twice in one batch).
                if (options.Value.HoldBeforeEnqueueMs > 0) await Task.Delay(options.Value.HoldBeforeEnqueueMs, ct);
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                var stamped = await db.Database.SqlQuery<DateTimeOffset?>($"SELECT enqueued_at AS \"Value\" FROM jobs WHERE id = {job.Id} FOR UPDATE")
                    .SingleAsync(ct);
                if (stamped is null)
                {
                    queue.Enqueue(job.Id, job.Kind);
                    job.EnqueuedAt = clock.GetUtcNow();
                    await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.EnqueuedAt, job.EnqueuedAt), ct);
                }
                else job.EnqueuedAt = stamped;
                await tx.CommitAsync(ct);
            }
            catch (Exception e)
            {
                // The row is written: the reconciler will enqueue it. The client still gets its 202.
                log.LogWarning(e, "Job {JobId} written but not enqueued; the reconciler will pick it up", job.Id);
            }
            log.LogInformation("Job {JobId} accepted: {Kind} on {Model} {ModelVersion}", job.Id, job.Kind, job.Model, job.ModelVersion);
        }
        return new Outcome(job, Replayed: false, Conflict: false);
    }

    private Task<Job?> FindByKeyAsync(Guid apiKeyId, string key, CancellationToken ct) =>
        db.Jobs.AsNoTracking().Include(j => j.Outputs).FirstOrDefaultAsync(j => j.ApiKeyId == apiKeyId && j.IdempotencyKey == key, ct);
}
