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
/// our Api and workers). One job at a time. A delivery that has not reached a fetcher after 1 s is late, and the row
/// says why: claimed (fetchedat set) by a thread that has not returned it, or not claimed yet (a missed wake-up, which
/// the 5 s poll ends). One not fetched within the rescue time is counted as wedged and freed with a bare NOTIFY, as
/// the next enqueue would free it in the service. The two modes
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
        var latencies = modes.Select(_ => new List<double>()).ToArray();
        var wedged = new int[modes.Length];
        var held = new int[modes.Length];
        var unclaimed = new int[modes.Length];
        for (int b = 0; b < blocks; b++)
            for (int m = 0; m < modes.Length; m++)
            {
                var (l, w, h, u) = Block(pg, $"hf_fetch_{m}", modes[m].Item2, rounds, fetchers, TimeSpan.FromSeconds(rescueSeconds));
                latencies[m].AddRange(l);
                wedged[m] += w;
                held[m] += h;
                unclaimed[m] += u;
                Console.WriteLine($"  block {b + 1} {modes[m].Item1,-15} median {Stats.Median(l),7:F2} ms  max {l.Max(),9:F1} ms  " +
                                  $"late {h} held + {u} unclaimed, wedged {w}");
            }

        Console.WriteLine();
        Console.WriteLine("| mode | jobs | median ms | p99 ms | max ms | > 1 s: claimed, held in Dequeue | > 1 s: not claimed yet | not fetched in the rescue time |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (int m = 0; m < modes.Length; m++)
        {
            var l = latencies[m];
            Console.WriteLine($"| {modes[m].Item1} | {l.Count} | {Stats.Median(l):F2} | {Stats.Percentile(l, 99):F2} | {l.Max():F1} | " +
                              $"{held[m]} | {unclaimed[m]} | {wedged[m]} |");
        }
        Console.WriteLine($"median ratio (keepalive on / off): {Stats.Median(latencies[1]) / Stats.Median(latencies[0]):F2}");
        return 0;
    }

    /// <summary>One block: fresh fetchers on one storage, <paramref name="rounds"/> jobs one after another.</summary>
    private static (List<double> Latencies, int Wedged, int Held, int Unclaimed) Block(string pg, string schema, int keepAlive, int rounds, int fetchers, TimeSpan rescue)
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

        using var producer = new NpgsqlConnection(pg);
        producer.Open();
        Exec(producer, $"""DELETE FROM "{schema}"."jobqueue" """);
        var fetched = new ConcurrentDictionary<long, TaskCompletionSource<long>>();
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
                    long at = clock.ElapsedTicks;
                    job.RemoveFromQueue();
                    fetched.GetOrAdd(long.Parse(job.JobId), _ => new()).TrySetResult(at);
                }
                catch (OperationCanceledException) { }
            }
        }) { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        Thread.Sleep(500);   // every fetcher polls once and listens

        var latencies = new List<double>(rounds);
        int wedged = 0, held = 0, unclaimed = 0;
        for (long id = 1; id <= rounds; id++)
        {
            var done = fetched.GetOrAdd(id, _ => new());
            long sent = clock.ElapsedTicks;
            Exec(producer, $"""INSERT INTO "{schema}"."jobqueue" ("jobid", "queue") VALUES ({id}, 'bench'); NOTIFY new_job""");
            if (!done.Task.Wait(TimeSpan.FromSeconds(1)))
            {
                // Late: is the row claimed by a thread that has not returned it, or still waiting to be fetched?
                if (Scalar(producer, $"""SELECT count(*) FROM "{schema}"."jobqueue" WHERE "jobid" = {id} AND "fetchedat" IS NOT NULL""") > 0)
                    held++;
                else
                    unclaimed++;
                if (!done.Task.Wait(rescue - TimeSpan.FromSeconds(1)))
                {
                    wedged++;
                    while (!done.Task.Wait(TimeSpan.FromSeconds(1))) Exec(producer, "NOTIFY new_job");
                }
            }
            latencies.Add((done.Task.Result - sent) * 1000.0 / Stopwatch.Frequency);
            Thread.Sleep(Random.Shared.Next(0, 3));   // idle fetchers re-arm their listeners in between
        }

        stop.Cancel();
        // A fetcher whose listener lost its cancel waits for a notification: send them until every thread is out.
        while (threads.Any(t => t.IsAlive)) { Exec(producer, "NOTIFY new_job"); Thread.Sleep(50); }
        return (latencies, wedged, held, unclaimed);
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
