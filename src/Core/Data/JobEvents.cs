using Microsoft.EntityFrameworkCore;

namespace GanService.Core.Data;

public static class JobEvents
{
    /// <summary>Tells listeners (the Api's Prefer: wait) that a job changed; delivered when the transaction commits.</summary>
    public static Task NotifyAsync(GanDbContext db, Guid jobId, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_notify({Database.JobEventsChannel}, {jobId.ToString()})", ct);
}
