using GanService.Core.Data;
using GanService.Core.Jobs;
using Microsoft.EntityFrameworkCore;

namespace GanService.Api.Jobs;

/// <summary>Reads a key's jobs, and waits for one to finish (Prefer: wait).</summary>
public sealed class JobReader(GanDbContext db, JobWaiter waiter)
{
    public Task<Job?> FindAsync(Guid id, Guid apiKeyId, CancellationToken ct) =>
        db.Jobs.AsNoTracking().Include(j => j.Outputs).FirstOrDefaultAsync(j => j.Id == id && j.ApiKeyId == apiKeyId, ct);

    /// <summary>Returns the job once terminal, or as it is when <paramref name="timeout"/> passes.</summary>
    public async Task<Job> WaitAsync(Job job, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!JobStatus.IsTerminal(job.Status))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) break;
            // Listen first, then read: an event between the two cannot be missed. The 1 s cap is the fallback
            // should the listener's connection drop.
            var signal = waiter.WaitForEventAsync(job.Id, left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), ct);
            job = await FindAsync(job.Id, job.ApiKeyId, ct) ?? job;
            if (JobStatus.IsTerminal(job.Status)) break;
            await signal;
        }
        return job;
    }
}
