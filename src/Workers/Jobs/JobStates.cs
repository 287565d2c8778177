using GanService.Core.Data;
using GanService.Core.Jobs;
using Microsoft.EntityFrameworkCore;

namespace GanService.Workers.Jobs;

/// <summary>State changes the worker and the reconciler share.</summary>
public static class JobStates
{
    /// <summary>Marks an unfinished job failed with <paramref name="problem"/> (RFC 9457 JSON) and tells listeners.</summary>
    public static async Task FailAsync(GanDbContext db, Guid jobId, string problem, CancellationToken ct)
    {
        await db.Jobs.Where(j => j.Id == jobId && !JobStatus.IsTerminalStatuses.Contains(j.Status))
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, JobStatus.Failed)
                .SetProperty(j => j.Error, problem)
                .SetProperty(j => j.CompletedAt, DateTimeOffset.UtcNow), ct);
        await JobEvents.NotifyAsync(db, jobId, ct);
    }
}
