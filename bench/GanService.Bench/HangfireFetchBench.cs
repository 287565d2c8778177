using System.Collections.Concurrent;
using System.Diagnostics;
using GanService.Core.Queue;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Npgsql;

namespace GanService.Bench;

/// <summary>
/// A wedged Hangfire.PostgreSql delivery, reproduced on demand, with the connection keepalive off and on side by side.
/// </summary>
/// <remarks>
/// With long polling, every <c>Dequeue</c> starts a LISTEN task and, once it has claimed a row, cancels it and waits
/// for it with no timeout. Npgsql 10's <c>Wait</c> with an infinite timeout can lose a cancel that lands while it
/// re-arms its read; the task then waits for the next NOTIFY, and the fetching thread holds its claimed row, kept
/// invisible by the sliding heartbeat, until some other enqueue happens. With a keepalive the wait has a finite read
/// timeout and checks the token after each keepalive, which bounds the stall.
///
/// Here N threads fetch as a worker's do, and another process's enqueue is imitated with
/// raw SQL (a row and <c>NOTIFY new_job</c>; the library's own in-process wake-up is not used, as it is not between
/// our Api and workers). One job at a time. A delivery that has not reached a fetcher after 200 ms is late, and the
/// row says why: claimed (fetchedat set, or already removed) by a thread that has not returned it yet, or not claimed
/// (a missed wake-up, which a 5 s poll should end). One not fetched within the rescue time is wedged, looked at again,
/// and then sent a bare NOTIFY every second, as the next enqueue would in the service. The slowest enqueue (the
/// INSERT and NOTIFY's own round trip) is printed too, since latency is counted from before it. The two modes
/// alternate in blocks over one database, each in its own schema.
/// </remarks>
public static class HangfireFetchBench
{
    public static int Run(string[] args)
    {
        int blocks = args.Length > 1 ? int.Parse(args[1]) : 6;
        int rounds = args.Length > 2 ? int.Parse(args[2]) : 500;
        int fetchers = args.Length > 3 ? int.Parse(args[3]) : 8;
        int keepAlive = args.Length > 4 ? int.Parse(args[4]) : 1;
        double rescueSeconds = args.Length > 5 ? double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : 10;
        string pg = Environment.GetEnvironmentVariable("BENCH_PG") ?? throw new InvalidOperationException("BENCH_PG is not set");

        int burn = int.Parse(Environment.GetEnvironmentVariable("BENCH_BURN") ?? "0");
        for (int i = 0; i < burn; i++)
            new Thread(() => { while (true) Thread.SpinWait(1_000); }) { IsBackground = true, Priority = ThreadPriority.BelowNormal }.Start();
        Console.WriteLine($"hangfire-fetch: {blocks} blocks of {rounds} jobs per mode, {fetchers} fetching threads, keepalive {keepAlive} s, " +
                          $"a delivery not fetched in {rescueSeconds} s is wedged and freed by a NOTIFY; {Environment.ProcessorCount} cores, {burn} spinning threads");
        var modes = new[] { ("keepalive off", 0), ($"keepalive {keepAlive} s", keepAlive) };
        var results = modes.Select(_ => new List<BlockResult>()).ToArray();
        for (int b = 0; b < blocks; b++)
            for (int m = 0; m < modes.Length; m++)
            {
                var r = Block(pg, $"hf_fetch_{m}", modes[m].Item2, rounds, fetchers, TimeSpan.FromSeconds(rescueSeconds));
                results[m].Add(r);
                Console.WriteLine($"  block {b + 1} {modes[m].Item1,-15} median {Stats.Median(r.Latencies),7:F2} ms  max {r.Latencies.Max(),9:F1} ms  " +
                                  $"late {r.LateHeld} held + {r.LateUnclaimed} unclaimed, wedged {r.WedgedHeld} held + {r.WedgedUnclaimed} unclaimed, " +
                                  $"slowest enqueue {r.SlowestEnqueueMs:F1} ms, fetch errors {r.FetchErrors}");
            }

        Console.WriteLine();
        Console.WriteLine($"| mode | jobs | median ms | p99 ms | max ms | late (> {Late.TotalMilliseconds} ms): held / not claimed | " +
                          $"wedged (> {rescueSeconds} s): held / not claimed | slowest enqueue ms | fetch errors |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var latencies = results.Select(rs => rs.SelectMany(r => r.Latencies).ToList()).ToArray();
        for (int m = 0; m < modes.Length; m++)
        {
            var l = latencies[m];
            var rs = results[m];
            Console.WriteLine($"| {modes[m].Item1} | {l.Count} | {Stats.Median(l):F2} | {Stats.Percentile(l, 99):F2} | {l.Max():F1} | " +
                              $"{rs.Sum(r => r.LateHeld)} / {rs.Sum(r => r.LateUnclaimed)} | {rs.Sum(r => r.WedgedHeld)} / {rs.Sum(r => r.WedgedUnclaimed)} | " +
                              $"{rs.Max(r => r.SlowestEnqueueMs):F1} | {rs.Sum(r => r.FetchErrors)} |");
        }
        Console.WriteLine($"median ratio (keepalive on / off): {Stats.Median(latencies[1]) / Stats.Median(latencies[0]):F2}");
        return 0;
    }

    /// <summary>How long after its enqueue a job counts as late, and its row is looked at.</summary>
    private static readonly TimeSpan Late = TimeSpan.FromMilliseconds(200);

    private sealed class BlockResult
    {
        public List<double> Latencies { get; } = [];
        public int LateHeld, LateUnclaimed, WedgedHeld, WedgedUnclaimed, FetchErrors;
        public double SlowestEnqueueMs;
    }

    /// <summary>Claimed: the row has fetchedat set, or is gone (taken and removed since the wait ended).</summary>
    private static bool Claimed(NpgsqlConnection producer, string schema, long id) =>
        Scalar(producer, $"""SELECT count(*) FROM "{schema}"."jobqueue" WHERE "jobid" = {id} AND "fetchedat" IS NULL""") == 0;

    /// <summary>One block: fresh fetchers on one storage, <paramref name="rounds"/> jobs one after another.</summary>
    private static BlockResult Block(string pg, string schema, int keepAlive, int rounds, int fetchers, TimeSpan rescue)
    {
        var cs = HangfireSetup.QueueConnection(pg, new QueueOptions { KeepAliveSeconds = keepAlive });   // as the service connects
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = schema,
            PrepareSchemaIfNecessary = true,
            EnableLongPolling = true,
            QueuePollInterval = TimeSpan.FromSeconds(5),
            UseSlidingInvisibilityTimeout = true,
            InvisibilityTimeout = TimeSpan.FromSeconds(120),
        };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(cs, options), options);

        // The producer is another process in the service: its own pool (the application name makes it one), never a
        // connector a listener had, and a long command timeout, so a slow enqueue is measured rather than thrown.
        using var producer = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(pg) { ApplicationName = "bench-producer", CommandTimeout = 300 }.ConnectionString);
        producer.Open();
        Exec(producer, $"""DELETE FROM "{schema}"."jobqueue" """);
        var fetched = new ConcurrentDictionary<long, TaskCompletionSource<long>>();
        var result = new BlockResult();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var threads = Enumerable.Range(0, fetchers).Select(_ => new Thread(() =>
        {
            using var connection = storage.GetConnection();
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var job = connection.FetchNextJob(["bench"], stop.Token);
                    fetched.GetOrAdd(long.Parse(job.JobId), _ => new()).TrySetResult(clock.ElapsedTicks);
                    job.RemoveFromQueue();   // after: a row gone at the check below was claimed
                }
                catch (OperationCanceledException) { }
                catch (Exception) when (stop.IsCancellationRequested) { }
                catch (Exception e)
                {
                    // What Hangfire's worker loop does with a failed fetch: log it, wait, fetch again.
                    Interlocked.Increment(ref result.FetchErrors);
                    Console.WriteLine($"    fetch failed: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
                    Thread.Sleep(1000);
                }
            }
        }) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        Thread.Sleep(500);   // every fetcher polls once and listens

        for (long id = 1; id <= rounds; id++)
        {
            var done = fetched.GetOrAdd(id, _ => new());
            long sent = clock.ElapsedTicks;
            Exec(producer, $"""INSERT INTO "{schema}"."jobqueue" ("jobid", "queue") VALUES ({id}, 'bench'); NOTIFY new_job""");
            result.SlowestEnqueueMs = Math.Max(result.SlowestEnqueueMs, (clock.ElapsedTicks - sent) * 1000.0 / Stopwatch.Frequency);
            if (!done.Task.Wait(Late))
            {
                // Late: is the row claimed by a thread that has not returned it, or still waiting to be fetched?
                if (Claimed(producer, schema, id)) result.LateHeld++; else result.LateUnclaimed++;
                if (!done.Task.Wait(rescue - Late))
                {
                    if (Claimed(producer, schema, id)) result.WedgedHeld++; else result.WedgedUnclaimed++;
                    while (!done.Task.Wait(TimeSpan.FromSeconds(1))) Exec(producer, "NOTIFY new_job");
                }
            }
            result.Latencies.Add((done.Task.Result - sent) * 1000.0 / Stopwatch.Frequency);
            Thread.Sleep(Random.Shared.Next(0, 3));   // idle fetchers re-arm their listeners in between
        }

        stop.Cancel();
        // A fetcher whose listener lost its cancel waits for a notification: send them until every thread is out.
        while (threads.Any(t => t.IsAlive)) { Exec(producer, "NOTIFY new_job"); Thread.Sleep(50); }
        return result;
    }

    private static long Scalar(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(command.ExecuteScalar());
    }

    private static void Exec(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
