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
    private readonly ConcurrentDictionary<Guid, List<TaskCompletionSource>> waiters = new();

    /// <summary>A task that completes at the next event for <paramref name="jobId"/>, or when <paramref name="timeout"/> passes.</summary>
    public async Task WaitForEventAsync(Guid jobId, TimeSpan timeout, CancellationToken ct)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var list = waiters.GetOrAdd(jobId, _ => []);
        lock (list) list.Add(tcs);
        try
        {
            await tcs.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            lock (list) list.Remove(tcs);
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
                    if (Guid.TryParse(e.Payload, out var id) && waiters.TryGetValue(id, out var list))
                        lock (list) foreach (var t in list) t.TrySetResult();
                };
                await using (var cmd = new NpgsqlCommand($"LISTEN {Database.JobEventsChannel}", conn))
                    await cmd.ExecuteNonQueryAsync(stoppingToken);
                log.LogInformation("Listening for job events");
                while (!stoppingToken.IsCancellationRequested)
                {
                    await conn.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken);
                    Prune();
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
        foreach (var (id, list) in waiters)
            lock (list)
                if (list.Count == 0) waiters.TryRemove(id, out _);
    }
}
