using GanService.Core.Data;
using GanService.Core.Jobs;
using Microsoft.EntityFrameworkCore;

namespace GanService.Workers.Jobs;

/// <summary>Jobs whose Cancel-After deadline passed before they (re)started are canceled, never run.</summary>
public static class Deadlines
{
    private static readonly string Problem = Problems.Json("Deadline passed",
        "The job had not started by the deadline its Cancel-After header set, so it was canceled without running.", 408);

    /// <summary>A delivered job that is past its deadline: queued, or running from an earlier run that died.</summary>
    public static Task<int> CancelIfExpiredAsync(GanDbContext db, Guid jobId, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        return CancelAsync(db, $"""
            UPDATE jobs SET status = {JobStatus.Canceled}, completed_at = {now}, error = {Problem}::jsonb
            WHERE id = {jobId} AND status IN ({JobStatus.Queued}, {JobStatus.Running}) AND cancel_after <= {now}
            RETURNING id AS "Value"
            """, ct);
    }

    /// <summary>Every queued job past its deadline (the reconciler's sweep; running jobs are left to finish).</summary>
    public static Task<int> CancelExpiredQueuedAsync(GanDbContext db, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        return CancelAsync(db, $"""
            UPDATE jobs SET status = {JobStatus.Canceled}, completed_at = {now}, error = {Problem}::jsonb
            WHERE status = {JobStatus.Queued} AND cancel_after <= {now}
            RETURNING id AS "Value"
            """, ct);
    }

    private static async Task<int> CancelAsync(GanDbContext db, FormattableString update, CancellationToken ct)
    {
        var ids = await db.Database.SqlQuery<Guid>(update).ToListAsync(ct);
        foreach (var id in ids) await JobEvents.NotifyAsync(db, id, ct);
        return ids.Count;
    }
}
