using GanService.Core.Data;
using GanService.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Workers.Jobs;

/// <summary>
/// Deletes the output files (and uploaded input files) of jobs finished more than Retention:OutputSeconds ago and marks their rows expired
/// (expired_at), every Retention:SweepSeconds on every worker. Rows are taken FOR UPDATE SKIP LOCKED, so workers
/// sweeping at once split the work; the files go before the mark, so a sweep cut short is finished by the next one.
/// The rows stay: a job's input, seed, model version and outcome remain readable; its links answer 410.
/// </summary>
public sealed class RetentionSweeper(IServiceScopeFactory scopes, IBlobStore blobs, IOptions<RetentionOptions> options, ILogger<RetentionSweeper> log) : BackgroundService
{
    private const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.OutputLifetime is null) return;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SweepSeconds));
        do
        {
            try
            {
                while (await SweepOnceAsync(stoppingToken) == BatchSize) { }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(e, "Retention sweep failed; next in {Seconds} s", options.Value.SweepSeconds);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One batch: returns how many jobs it expired.</summary>
    public async Task<int> SweepOnceAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<GanDbContext>();
        var cutoff = DateTimeOffset.UtcNow - options.Value.OutputLifetime!.Value;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var ids = await db.Database.SqlQuery<Guid>($"""
            SELECT id AS "Value" FROM jobs
            WHERE expired_at IS NULL AND completed_at IS NOT NULL AND completed_at < {cutoff}
            ORDER BY completed_at LIMIT {BatchSize} FOR UPDATE SKIP LOCKED
            """).ToListAsync(ct);
        if (ids.Count == 0) return 0;
        var keys = await db.JobOutputs.Where(o => ids.Contains(o.JobId)).Select(o => o.BlobKey).ToListAsync(ct);
        // Uploaded inputs (an aging job's face) are kept exactly as long as the outputs.
        keys.AddRange(await db.Jobs.Where(j => ids.Contains(j.Id) && j.InputKey != null).Select(j => j.InputKey!).ToListAsync(ct));
        foreach (var key in keys) await blobs.DeleteAsync(key, ct);
        await db.Jobs.Where(j => ids.Contains(j.Id)).ExecuteUpdateAsync(s => s.SetProperty(j => j.ExpiredAt, DateTimeOffset.UtcNow), ct);
        await tx.CommitAsync(ct);
        log.LogInformation("Retention: deleted {Files} file(s) of {Jobs} job(s) finished before {Cutoff}", keys.Count, ids.Count, cutoff);
        return ids.Count;
    }
}
