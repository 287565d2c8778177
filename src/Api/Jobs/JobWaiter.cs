using System.Collections.Concurrent;
using GanService.Core;
using GanService.Core.Data;
using Npgsql;

namespace GanService.Api.Jobs;

/// <summary>
/// LISTENs on the job_events channel that workers NOTIFY, and wakes the requests waiting on a job (Prefer: wait).
/// A lost connection only costs latency: waiters also re-read the row every second.
/// </summary>
public sealed class JobWaiter(IConfiguration configuration, ILogger<JobWaiter> log) : BackgroundService
{
    /// <summary>The requests waiting on one job. Once <see cref="Removed"/> it is out of the map and takes no more.</summary>
    private sealed class Slot
    {
        public readonly List<TaskCompletionSource> Waiting = [];
        public bool Removed;
    }

    private readonly ConcurrentDictionary<Guid, Slot> waiters = new();
    private DateTime lastPrune = DateTime.UtcNow;

    /// <summary>A task that completes at the next event for <paramref name="jobId"/>, or when <paramref name="timeout"/> passes.</summary>
    public async Task WaitForEventAsync(Guid jobId, TimeSpan timeout, CancellationToken ct)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Slot slot;
        while (true)
        {
            // A slot pruned between GetOrAdd and the lock is out of the map: an event would never reach it (this
            // race cost 4 % of Prefer: wait requests on a GPU a 1 s wait for the fallback re-read), so take a new one.
            slot = waiters.GetOrAdd(jobId, _ => new Slot());
            lock (slot)
                if (!slot.Removed)
                {
                    slot.Waiting.Add(tcs);
                    break;
                }
        }
        try
        {
            await tcs.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            lock (slot) slot.Waiting.Remove(tcs);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = new NpgsqlConnection(configuration.PostgresConnectionString());
                await conn.OpenAsync(stoppingToken);
                conn.Notification += (_, e) =>
                {
                    if (Guid.TryParse(e.Payload, out var id) && waiters.TryGetValue(id, out var slot))
                        lock (slot) foreach (var t in slot.Waiting) t.TrySetResult();
                };
                await using (var cmd = new NpgsqlCommand($"LISTEN {Database.JobEventsChannel}", conn))
                    await cmd.ExecuteNonQueryAsync(stoppingToken);
                log.LogInformation("Listening for job events");
                while (!stoppingToken.IsCancellationRequested)
                {
                    await conn.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken);
                    if (DateTime.UtcNow - lastPrune > TimeSpan.FromSeconds(30)) Prune();
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning("Job event listener lost its connection ({Message}); reconnecting in 1 s", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private void Prune()
    {
        lastPrune = DateTime.UtcNow;
        foreach (var (id, slot) in waiters)
            lock (slot)
                if (slot.Waiting.Count == 0)
                {
                    slot.Removed = true;
                    waiters.TryRemove(KeyValuePair.Create(id, slot));
                }
    }
}
