using GanService.Core.Data;
using GanService.Core.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Workers.Jobs;

/// <summary>
/// The outbox half of "nothing accepted is lost": an Api that died after writing a job row but before handing it to
/// Hangfire leaves the row queued with no enqueued_at. Any worker finds such rows and enqueues them; FOR UPDATE SKIP
/// LOCKED keeps several workers from enqueuing the same row at once (and a duplicate run would find the job finished).
/// </summary>
/// <remarks>
/// It also re-delivers jobs whose delivery got wedged: Hangfire.PostgreSql 1.21.1 can leave a worker thread blocked
/// inside Dequeue after it has fetched a job (seen in a stack dump: 2 of 5,771 jobs in a bench run), waiting for its
/// LISTEN task, whose cancel Npgsql lost (HangfireSetup.QueueConnection; the keepalive set there bounds that wait).
/// Until then the job stays invisible, its fetch kept alive by the sliding heartbeat. When nothing waits in the queue
/// yet a job has been queued (not started) for Worker:StaleQueuedSeconds, it is one of those, or a delivery lost some
/// other way: it is enqueued again, and the claim makes a late second delivery harmless.
/// </remarks>
public sealed class Reconciler(IServiceScopeFactory scopes, Hangfire.JobStorage storage, IOptions<WorkerOptions> options, ILogger<Reconciler> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(options.Value.ReconcileSeconds);
        using var timer = new PeriodicTimer(period);
        do
        {
            try
            {
                await ReconcileOnceAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(e, "Reconciler pass failed; next pass in {Seconds} s", period.TotalSeconds);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task<int> ReconcileOnceAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<GanDbContext>();
        var queue = scope.ServiceProvider.GetRequiredService<IJobQueue>();
        var cutoff = DateTimeOffset.UtcNow.AddSeconds(-options.Value.ReconcileGraceSeconds);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        int stranded = await EnqueueAsync(db, queue,
            $"SELECT * FROM jobs WHERE status = 'queued' AND enqueued_at IS NULL AND created_at < {cutoff} ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED",
            "Job {JobId} was accepted but never queued; enqueued it now", ct);
        int wedged = 0;
        var monitor = storage.GetMonitoringApi();
        foreach (var kind in new[] { JobKinds.Generation, JobKinds.Aging, JobKinds.TextToImage, JobKinds.Video })
        {
            if (monitor.EnqueuedCount(Queues.ForKind(kind)) != 0) continue;
            var staleCutoff = DateTimeOffset.UtcNow.AddSeconds(-options.Value.StaleQueuedSeconds);
            wedged += await EnqueueAsync(db, queue,
                $"SELECT * FROM jobs WHERE status = 'queued' AND kind = {kind} AND enqueued_at < {staleCutoff} ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED",
                "Job {JobId} was delivered but never started; delivered it again", ct);
        }
        int orphans = await RecoverOrphansAsync(db, queue, ct);
        int expired = await Deadlines.CancelExpiredQueuedAsync(db, ct);
        if (expired > 0) log.LogInformation("Canceled {Count} job(s) whose Cancel-After deadline passed before they started", expired);
        await tx.CommitAsync(ct);
        return stranded + wedged + orphans;
    }

    /// <summary>
    /// Jobs left `running` by a worker that is gone (no heartbeat for Worker:OrphanSeconds) and that nobody else
    /// picked up: a final attempt whose failure could not be recorded (Postgres down at that moment), or a delivery
    /// Hangfire no longer holds. They are queued again, or failed once their attempts are used up. A job handed out
    /// again less than OrphanSeconds ago is left alone: its started_at is still the first start's, and the worker
    /// that has just claimed it may not have written its first heartbeat yet (this sweep in another process once
    /// took such a job for an orphan a second time, and it ran twice). Nor is a job of this very process: it is alive
    /// whatever its last heartbeat says (with OrphanSeconds as short as the 5 s heartbeat period, a worker once
    /// re-queued its own running training).
    /// </summary>
    private async Task<int> RecoverOrphansAsync(GanDbContext db, IJobQueue queue, CancellationToken ct)
    {
        var cutoff = DateTimeOffset.UtcNow.AddSeconds(-options.Value.OrphanSeconds);
        var orphans = await db.Jobs.FromSql($"""
            SELECT j.* FROM jobs j
            WHERE j.status = 'running' AND j.started_at < {cutoff}
              AND (j.enqueued_at IS NULL OR j.enqueued_at < {cutoff})
              AND j.worker IS DISTINCT FROM {WorkerPresence.Id}
              AND NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = j.worker AND w.heartbeat_at > {cutoff})
            ORDER BY j.created_at LIMIT 100 FOR UPDATE OF j SKIP LOCKED
            """).AsNoTracking().Select(j => new { j.Id, j.Kind, j.Attempts, j.Worker }).ToListAsync(ct);
        foreach (var job in orphans)
        {
            if (job.Attempts >= options.Value.MaxAttempts)
            {
                await JobStates.FailAsync(db, job.Id, Problems.Json("Generation failed",
                    $"The worker running this job ({job.Worker}) stopped responding; it was tried {job.Attempts} times."), ct);
                log.LogWarning("Job {JobId} was left running by {Worker}, which is gone, after {Attempts} attempts; marked failed", job.Id, job.Worker, job.Attempts);
                continue;
            }
            await RequeueAsync(db, queue, job.Id, job.Kind, ct);
            log.LogWarning("Job {JobId} was left running by {Worker}, which is gone; queued it again", job.Id, job.Worker);
        }
        return orphans.Count;
    }

    /// <summary>Enqueues the rows <paramref name="select"/> locks and stamps their enqueued_at.</summary>
    private async Task<int> EnqueueAsync(GanDbContext db, IJobQueue queue, FormattableString select, string message, CancellationToken ct)
    {
        var jobs = await db.Jobs.FromSql(select).AsNoTracking().Select(j => new { j.Id, j.Kind }).ToListAsync(ct);
        foreach (var job in jobs)
        {
            await RequeueAsync(db, queue, job.Id, job.Kind, ct);
#pragma warning disable CA2254 // the two messages are fixed templates chosen by the caller
            log.LogWarning(message, job.Id);
#pragma warning restore CA2254
        }
        return jobs.Count;
    }

    /// <summary>Hands a locked row to the queue and marks it queued, stamping enqueued_at.</summary>
    private static async Task RequeueAsync(GanDbContext db, IJobQueue queue, Guid jobId, string kind, CancellationToken ct)
    {
        queue.Enqueue(jobId, kind);
        await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Status, JobStatus.Queued)
            .SetProperty(j => j.EnqueuedAt, DateTimeOffset.UtcNow), ct);
    }
}
