using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using GanService.Models;
using GanService.Models.Dcgan;
using Npgsql;
using SkiaSharp;
using static TorchSharp.torch;
using Generator = GanService.Models.Dcgan.Generator;

namespace GanService.Bench;

/// <summary>
/// The capacity model's measurements (bench/run-capacity.sh runs them against one private Postgres):
/// <c>capacity-window</c>: C closed-loop Prefer: wait clients for S seconds against the workers running now; what one
/// job costs in Postgres statements (by role: the Api connects as <c>ganapi</c>, workers as <c>ganworker</c>; Hangfire's
/// own statements told apart from ours), WAL bytes, commits, WAL syncs, rows and bytes kept per table, blob bytes, and
/// CPU milliseconds per process group read from /proc (Postgres = the postmaster, its live children and the children
/// it has reaped);
/// <c>capacity-idle</c>: statements and Postgres CPU per second while the workers wait on an empty queue;
/// <c>capacity-parts</c>: the per-image work of a worker outside Postgres (forward, PNG encode, sha256, file write) in
/// this process; <c>capacity-report</c>: the Markdown tables.
/// </summary>
public static class CapacityBench
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };
    const double TicksPerSecond = 100; // USER_HZ: 100 on every Linux architecture we run on

    public sealed record Statement(string Db, string Role, string Origin, string Query, long Calls, double TotalMs);
    public sealed record Table(string Name, long Bytes, long Rows);
    /// <summary>One Postgres server's share of a window: "main" (the service's database) or "queue" (ConnectionStrings:Queue on its own server).</summary>
    public sealed record Server(string Name, double CpuMs, long WalBytes, long WalRecords, long WalSyncs, long Commits, List<Table> Tables);
    public sealed record Window(string Tag, string Variant, int Workers, int Clients, double Seconds, long Jobs, long Errors, double P50Ms, double P99Ms,
        Dictionary<string, double> CpuMs, List<Statement> Statements, List<Server> Servers, long BlobBytes)
    {
        public long WalBytes => Servers.Sum(s => s.WalBytes);
        public long WalSyncs => Servers.Sum(s => s.WalSyncs);
        public long Commits => Servers.Sum(s => s.Commits);
    }

    public static async Task<int> RunAsync(string part)
    {
        switch (part)
        {
            case "capacity-window": await WindowAsync(idle: false); return 0;
            case "capacity-idle": await WindowAsync(idle: true); return 0;
            case "capacity-parts": Parts(); return 0;
            case "capacity-cold": await ColdAsync(); return 0;
            case "capacity-report": Report(); return 0;
            default: return 2;
        }
    }

    static string Env(string name, string? fallback = null) =>
        Environment.GetEnvironmentVariable(name) ?? fallback ?? throw new InvalidOperationException($"{name} is not set");

    // ---- /proc: CPU time of process groups ----

    /// <summary>utime+stime (and, with <paramref name="children"/>, cutime+cstime) of a process in ticks; null once gone.</summary>
    static long? Ticks(int pid, bool children = false)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // f[0] is field 3 (state): utime is field 14 → f[11], stime f[12], cutime f[13], cstime f[14]
            long t = long.Parse(f[11]) + long.Parse(f[12]);
            return children ? t + long.Parse(f[13]) + long.Parse(f[14]) : t;
        }
        catch (IOException) { return null; }
    }

    static int ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
        }
        catch (IOException) { return -1; }
    }

    /// <summary>Postgres: the postmaster with its reaped children, plus every live child (backends, WAL writer, …).</summary>
    static long PostgresTicks(int postmaster)
    {
        long total = Ticks(postmaster, children: true) ?? 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out int pid) && pid != postmaster && ParentOf(pid) == postmaster)
                total += Ticks(pid) ?? 0;
        return total;
    }

    static int Postmaster(string dir) => int.Parse(File.ReadLines(Path.Combine(dir, "postmaster.pid")).First());

    static Dictionary<string, long> CpuSnapshot()
    {
        var workers = Env("BENCH_WORKER_PIDS", "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse);
        var queueDir = Environment.GetEnvironmentVariable("BENCH_QUEUE_PG_DIR");
        return new Dictionary<string, long>
        {
            ["postgres"] = PostgresTicks(Postmaster(Env("BENCH_PG_DIR"))),
            ["postgres-queue"] = string.IsNullOrEmpty(queueDir) ? 0 : PostgresTicks(Postmaster(queueDir)),
            ["api"] = Ticks(int.Parse(Env("BENCH_API_PID"))) ?? 0,
            ["workers"] = workers.Sum(p => Ticks(p) ?? 0),
            ["clients"] = Ticks(Environment.ProcessId) ?? 0,
        };
    }

    // ---- Postgres counters ----

    static async Task<List<T>> QueryAsync<T>(NpgsqlConnection conn, string sql, Func<NpgsqlDataReader, T> row)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var list = new List<T>();
        while (await reader.ReadAsync()) list.Add(row(reader));
        return list;
    }

    static async Task<long> ScalarAsync(NpgsqlConnection conn, string sql) =>
        Convert.ToInt64(await new NpgsqlCommand(sql, conn).ExecuteScalarAsync());

    sealed record Counters(long Commits, long WalBytes, long WalRecords, long WalSyncs, List<Table> Tables);

    static async Task<Counters> CountersAsync(NpgsqlConnection conn)
    {
        var db = (await QueryAsync(conn, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()", r => r.GetInt64(0)))[0];
        var wal = (await QueryAsync(conn, "SELECT wal_bytes::bigint, wal_records, wal_sync FROM pg_stat_wal", r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2))))[0];
        var tables = await QueryAsync(conn, """
            SELECT n.nspname || '.' || c.relname, pg_total_relation_size(c.oid), COALESCE(s.n_live_tup, 0)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
            WHERE c.relkind = 'r' AND n.nspname IN ('public', 'hangfire')
            """, r => new Table(r.GetString(0), r.GetInt64(1), r.GetInt64(2)));
        return new Counters(db, wal.Item1, wal.Item2, wal.Item3, tables);
    }

    static async Task WindowAsync(bool idle)
    {
        string tag = Env("BENCH_TAG"), results = Env("BENCH_RESULTS"), variant = Env("BENCH_VARIANT", "default");
        int workers = int.Parse(Env("BENCH_WORKERS", "1")), clients = int.Parse(Env("BENCH_CLIENTS", "32"));
        int seconds = int.Parse(Env("BENCH_SECONDS", "30"));
        // The service's database, and the queue's own server when the queue is split off (BENCH_QUEUE_PG).
        var servers = new List<(string Name, NpgsqlConnection Conn)> { ("main", new NpgsqlConnection(Env("BENCH_PG"))) };
        if (Environment.GetEnvironmentVariable("BENCH_QUEUE_PG") is { Length: > 0 } queuePg) servers.Add(("queue", new NpgsqlConnection(queuePg)));
        foreach (var (_, c) in servers) await c.OpenAsync();
        var conn = servers[0].Conn;
        using var http = new HttpClient { BaseAddress = new Uri(Env("BENCH_URL")), Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Env("BENCH_KEY"));
        http.DefaultRequestHeaders.Add("Prefer", "wait=60");
        if (!idle)
        {
            // Warm-up: every worker has taken jobs and every pool has its connections before the window opens.
            var warm = DateTime.UtcNow.AddSeconds(5);
            await ClosedLoopAsync(http, clients, () => DateTime.UtcNow < warm);
        }
        else await Task.Delay(3000);

        // Counters Postgres keeps since start are read before and after; statements are reset (the bench's own
        // statements run as postgres and are left out of the report).
        var before = new List<Counters>();
        foreach (var (_, c) in servers)
        {
            await new NpgsqlCommand("SELECT pg_stat_statements_reset()", c).ExecuteNonQueryAsync();
            before.Add(await CountersAsync(c));
        }
        long succeeded0 = await ScalarAsync(conn, "SELECT count(*) FROM jobs WHERE status = 'succeeded'");
        long blob0 = await ScalarAsync(conn, "SELECT COALESCE(sum(bytes), 0) FROM job_outputs");
        var cpuBefore = CpuSnapshot();
        var clock = Stopwatch.StartNew();
        (long Ok, long Errors, List<double> Latencies) load = (0, 0, []);
        if (idle) await Task.Delay(TimeSpan.FromSeconds(seconds));
        else
        {
            var until = DateTime.UtcNow.AddSeconds(seconds);
            load = await ClosedLoopAsync(http, clients, () => DateTime.UtcNow < until);
        }
        double elapsed = clock.Elapsed.TotalSeconds;
        var cpuAfter = CpuSnapshot();
        var cpu = cpuAfter.ToDictionary(kv => kv.Key, kv => (kv.Value - cpuBefore[kv.Key]) * 1000 / TicksPerSecond);
        // Statistics reach the shared counters when a backend's transaction ends or it idles (up to 1 s); wait that out.
        await Task.Delay(1500);
        var statements = new List<Statement>();
        var measured = new List<Server>();
        for (int i = 0; i < servers.Count; i++)
        {
            var (name, c) = servers[i];
            await new NpgsqlCommand("SELECT pg_stat_clear_snapshot()", c).ExecuteNonQueryAsync();
            var after = await CountersAsync(c);
            statements.AddRange(await QueryAsync(c, """
                SELECT r.rolname, s.query, s.calls, s.total_exec_time
                FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
                WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND r.rolname <> 'postgres'
                """, r => new Statement(name, r.GetString(0), Origin(r.GetString(1)), Squash(r.GetString(1)), r.GetInt64(2), r.GetDouble(3))));
            var tables = after.Tables.Select(t =>
            {
                var b = before[i].Tables.FirstOrDefault(x => x.Name == t.Name);
                return new Table(t.Name, t.Bytes - (b?.Bytes ?? 0), t.Rows - (b?.Rows ?? 0));
            }).ToList();
            measured.Add(new Server(name, cpu[name == "main" ? "postgres" : "postgres-queue"], after.WalBytes - before[i].WalBytes,
                after.WalRecords - before[i].WalRecords, after.WalSyncs - before[i].WalSyncs, after.Commits - before[i].Commits, tables));
        }
        long jobs = idle ? 0 : await ScalarAsync(conn, "SELECT count(*) FROM jobs WHERE status = 'succeeded'") - succeeded0;
        long blob = await ScalarAsync(conn, "SELECT COALESCE(sum(bytes), 0) FROM job_outputs") - blob0;
        foreach (var (_, c) in servers) await c.DisposeAsync();
        cpu["postgres"] += cpu["postgres-queue"];
        cpu.Remove("postgres-queue");
        var window = new Window(tag, variant, workers, idle ? 0 : clients, elapsed, jobs, load.Errors,
            load.Latencies.Count == 0 ? 0 : Stats.Percentile(load.Latencies, 50), load.Latencies.Count == 0 ? 0 : Stats.Percentile(load.Latencies, 99),
            cpu, statements, measured, blob);
        Console.WriteLine(idle
            ? $"{tag}: {workers} idle worker(s), {elapsed:F0} s: {statements.Sum(s => s.Calls) / elapsed:F1} statements/s, Postgres CPU {window.CpuMs["postgres"] / elapsed:F1} ms/s"
            : $"{tag}: {workers} worker(s), {clients} clients: {jobs / elapsed:F1} jobs/s ({jobs} jobs, {load.Errors} errors), " +
              $"p50 {window.P50Ms:F0} ms, p99 {window.P99Ms:F0} ms, {statements.Sum(s => s.Calls) / (double)Math.Max(1, jobs):F1} statements/job");
        File.AppendAllText(results, JsonSerializer.Serialize(window, Json) + "\n");
    }

    /// <summary>
    /// Who a statement is for: "hangfire" (its tables, and its long-polling channel new_job), "session" (transaction
    /// control and the pool's DISCARD ALL, whichever code's transaction or connection it was), or "ours".
    /// </summary>
    static string Origin(string query)
    {
        if (query.Contains("hangfire", StringComparison.OrdinalIgnoreCase) || query.Contains("new_job", StringComparison.Ordinal)) return "hangfire";
        string first = query.TrimStart().Split(' ', 2)[0].ToUpperInvariant();
        return first is "BEGIN" or "COMMIT" or "ROLLBACK" or "DISCARD" or "SAVEPOINT" or "RELEASE" or "START" ? "session" : "ours";
    }

    static string Squash(string query) => string.Join(' ', query.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Closed loop: each client posts a single-image Prefer: wait job and the next when it returns (the batching bench's loop).</summary>
    static async Task<(long Ok, long Errors, List<double> Latencies)> ClosedLoopAsync(HttpClient http, int clients, Func<bool> more)
    {
        var (ok, errors, latencies, _, _) = await BatchingBench.Closed(http, clients, more);
        return (ok, errors, latencies);
    }

    public sealed record Cold(string Tag, int Clients, double EnqueueP50Ms, double EnqueueMaxMs, double LatencyP50Ms, double LatencyMaxMs, long Errors);

    /// <summary>
    /// A burst of N concurrent Prefer: wait requests as the first requests a fresh Api serves: how long the Api took
    /// to hand each job to the queue (enqueued_at − created_at, from the rows) and the round trips.
    /// </summary>
    static async Task ColdAsync()
    {
        int clients = int.Parse(Env("BENCH_CLIENTS", "32"));
        using var http = new HttpClient { BaseAddress = new Uri(Env("BENCH_URL")), Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Env("BENCH_KEY"));
        http.DefaultRequestHeaders.Add("Prefer", "wait=60");
        var answers = await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var sw = Stopwatch.StartNew();
            using var response = await http.PostAsync("/v1/generations", new StringContent($$"""{"count":1,"seed":{{c}}}""", Encoding.UTF8, "application/json"));
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            bool ok = (int)response.StatusCode == 200 && doc.RootElement.GetProperty("status").GetString() == "succeeded";
            return (Ok: ok, Id: ok ? doc.RootElement.GetProperty("id").GetGuid() : Guid.Empty, Ms: sw.Elapsed.TotalMilliseconds);
        }));
        await using var conn = new NpgsqlConnection(Env("BENCH_PG"));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT extract(epoch from (enqueued_at - created_at)) * 1000 FROM jobs WHERE id = ANY(@ids)", conn);
        cmd.Parameters.AddWithValue("ids", answers.Where(a => a.Ok).Select(a => a.Id).ToArray());
        var enqueue = new List<double>();
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) enqueue.Add(reader.IsDBNull(0) ? double.NaN : Convert.ToDouble(reader.GetValue(0)));
        var latencies = answers.Select(a => a.Ms).ToList();
        var r = new Cold(Env("BENCH_TAG"), clients, Stats.Median(enqueue), enqueue.Max(), Stats.Median(latencies), latencies.Max(), answers.Count(a => !a.Ok));
        Console.WriteLine($"{r.Tag}: {clients} concurrent first requests: enqueue p50 {r.EnqueueP50Ms:F0} ms, max {r.EnqueueMaxMs:F0} ms; round trip p50 {r.LatencyP50Ms:F0} ms, max {r.LatencyMaxMs:F0} ms; {r.Errors} errors");
        File.AppendAllText(Env("BENCH_RESULTS") + ".cold", JsonSerializer.Serialize(r, Json) + "\n");
    }

    // ---- the worker's per-image work outside Postgres ----

    static void Parts()
    {
        set_num_threads(1);
        var g = new Generator(DcganConfig.Fashion32);
        Weights.Load(g, Env("BENCH_WEIGHTS", "models/dcgan-fashion/generator.safetensors"));
        g.eval();
        var folder = Path.Combine(Env("BENCH_BLOBS"), "parts");
        Directory.CreateDirectory(folder);
        Console.WriteLine("per-image work in a worker outside Postgres, this process, 1 thread, median of 500 (µs)");
        Console.WriteLine("| image | forward, batch 1 | forward, per image at batch 64 | PNG encode | sha256 | file write + rename | PNG bytes |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (name, size, channels) in new[] { ("32×32 grey (dcgan-fashion)", 32, 1), ("64×64 RGB", 64, 3), ("256×256 RGB", 256, 3) })
        {
            string forward1 = "–", forward64 = "–";
            byte[] pixels;
            if (size == 32)
            {
                forward1 = Median(500, i => Forward(g, [i])).ToString("F0", CultureInfo.InvariantCulture);
                forward64 = (Median(40, i => Forward(g, Enumerable.Range(0, 64).Select(k => (long)(i * 64 + k)).ToArray())) / 64).ToString("F0", CultureInfo.InvariantCulture);
                pixels = Forward(g, [7], keep: true)!;
            }
            else
            {
                // A smooth picture, as a generator's output is (noise would not compress, a flat field too well).
                pixels = new byte[size * size * channels];
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                        for (int c = 0; c < channels; c++)
                            pixels[(y * size + x) * channels + c] = (byte)(128 + 100 * Math.Sin(x * 0.11 + c) * Math.Cos(y * 0.07 - c));
            }
            byte[] png = Png(pixels, size, channels);
            double encode = Median(500, _ => { Png(pixels, size, channels); });
            double sha = Median(500, _ => SHA256.HashData(png));
            int n = 0;
            double write = Median(500, _ =>
            {
                var path = Path.Combine(folder, $"{size}-{n++}.png");
                var tmp = path + ".tmp";
                using (var f = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0)) f.Write(png);
                File.Move(tmp, path, overwrite: true);
            });
            Console.WriteLine($"| {name} | {forward1} | {forward64} | {encode:F0} | {sha:F0} | {write:F0} | {png.Length:N0} |");
        }
        Directory.Delete(folder, recursive: true);
    }

    static byte[]? Forward(Generator g, long[] seeds, bool keep = false)
    {
        using var _ = NewDisposeScope();
        using var __ = inference_mode();
        var img = g.forward(Latents.ForSeeds(seeds, 100), tensor(seeds.Select(s => s % 10).ToArray()));
        var bytes = img.add(1).mul(127.5).clamp(0, 255).to(ScalarType.Byte).data<byte>().ToArray();
        return keep ? bytes : null;
    }

    static byte[] Png(byte[] pixels, int size, int channels)
    {
        var info = new SKImageInfo(size, size, channels == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var data = pixels;
        if (channels == 3)
        {
            data = new byte[size * size * 4];
            for (int i = 0; i < size * size; i++) { data[4 * i] = pixels[3 * i]; data[4 * i + 1] = pixels[3 * i + 1]; data[4 * i + 2] = pixels[3 * i + 2]; data[4 * i + 3] = 255; }
        }
        System.Runtime.InteropServices.Marshal.Copy(data, 0, bitmap.GetPixels(), data.Length);
        using var encoded = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return encoded.ToArray();
    }

    static double Median(int n, Action<int> work)
    {
        for (int i = 0; i < 20; i++) work(i);
        var times = new List<double>(n);
        for (int i = 0; i < n; i++)
        {
            long t = Stopwatch.GetTimestamp();
            work(i);
            times.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
        }
        return Stats.Median(times);
    }

    // ---- report ----

    static void Report()
    {
        var windows = File.ReadLines(Env("BENCH_RESULTS")).Select(l => JsonSerializer.Deserialize<Window>(l, Json)!)
            .Select(w => w with { Statements = w.Statements.Select(s => s with { Origin = Origin(s.Query) }).ToList() }).ToList();
        var loaded = windows.Where(w => w.Jobs > 0).ToList();
        var idle = windows.Where(w => w.Clients == 0).ToList();
        string F(double x, int d = 1) => x.ToString("N" + d, CultureInfo.InvariantCulture);

        Console.WriteLine($"throughput and cost per job: {loaded.FirstOrDefault()?.Clients} single-image Prefer: wait clients, closed loop, {loaded.FirstOrDefault()?.Seconds:F0} s windows, one run");
        Console.WriteLine("| variant | workers | jobs/s | p50 / p99 ms | CPU ms/job: Postgres | Api | workers | clients | CPU used of 2 cores | statements/job (Api + workers) | Hangfire / session / ours | commits/job | WAL KiB/job | WAL syncs/job |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var w in loaded)
        {
            double j = w.Jobs;
            long api = w.Statements.Where(s => s.Role == "ganapi").Sum(s => s.Calls), worker = w.Statements.Where(s => s.Role == "ganworker").Sum(s => s.Calls);
            double By(string origin) => w.Statements.Where(s => s.Origin == origin).Sum(s => s.Calls) / j;
            double cpu = w.CpuMs.Values.Sum() / 1000 / w.Seconds;
            Console.WriteLine($"| {w.Variant} | {w.Workers} | {F(j / w.Seconds)} | {F(w.P50Ms, 0)} / {F(w.P99Ms, 0)} | {F(w.CpuMs["postgres"] / j, 2)} | {F(w.CpuMs["api"] / j, 2)} | " +
                              $"{F(w.CpuMs["workers"] / j, 2)} | {F(w.CpuMs["clients"] / j, 2)} | {F(cpu * 100 / 2, 0)} % | {F(api / j)} + {F(worker / j)} | {F(By("hangfire"))} / {F(By("session"))} / {F(By("ours"))} | " +
                              $"{F(w.Commits / j, 1)} | {F(w.WalBytes / 1024.0 / j, 2)} | {F(w.WalSyncs / j, 2)} |");
        }

        // Side by side: each variant against the default with the same number of workers, in this run.
        var variants = loaded.Select(w => w.Variant).Distinct().Where(v => v != "default").ToList();
        if (variants.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("each variant ÷ default, same worker count, same run");
            Console.WriteLine("| variant | workers | jobs/s ratio | Postgres CPU ms/job ratio | statements/job ratio |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
            foreach (var w in loaded.Where(w => w.Variant != "default"))
                if (loaded.FirstOrDefault(d => d.Variant == "default" && d.Workers == w.Workers) is { } d)
                    Console.WriteLine($"| {w.Variant} | {w.Workers} | {F(w.Jobs / w.Seconds / (d.Jobs / d.Seconds), 2)}× | " +
                                      $"{F(w.CpuMs["postgres"] / w.Jobs / (d.CpuMs["postgres"] / d.Jobs), 2)}× | " +
                                      $"{F(w.Statements.Sum(s => s.Calls) / (double)w.Jobs / (d.Statements.Sum(s => s.Calls) / (double)d.Jobs), 2)}× |");
        }

        // Where two servers were measured (the queue split off), what each carries per job.
        var split = loaded.Where(w => w.Servers.Count > 1).ToList();
        if (split.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("queue on its own Postgres server: what each server carries per job");
            Console.WriteLine("| variant | workers | server | CPU ms/job | statements/job | commits/job | WAL KiB/job | WAL syncs/job |");
            Console.WriteLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var w in split)
                foreach (var sv in w.Servers)
                    Console.WriteLine($"| {w.Variant} | {w.Workers} | {sv.Name} | {F(sv.CpuMs / w.Jobs, 2)} | {F(w.Statements.Where(s => s.Db == sv.Name).Sum(s => s.Calls) / (double)w.Jobs)} | " +
                                      $"{F(sv.Commits / (double)w.Jobs, 1)} | {F(sv.WalBytes / 1024.0 / w.Jobs, 2)} | {F(sv.WalSyncs / (double)w.Jobs, 2)} |");
        }

        var first = loaded.FirstOrDefault(w => w.Variant == "default");
        if (first is not null)
        {
            double j = first.Jobs;
            Console.WriteLine();
            Console.WriteLine($"statements per job by shape (default, {first.Workers} worker(s), {first.Jobs} jobs; calls/job ≥ 0.05; execution time is the server's, without the round trip)");
            Console.WriteLine("| role | origin | calls/job | mean µs | server ms/job | statement |");
            Console.WriteLine("| --- | --- | ---: | ---: | ---: | --- |");
            foreach (var s in first.Statements.Where(s => s.Calls / j >= 0.05).OrderByDescending(s => s.Calls))
            {
                var text = s.Query.Length > 110 ? s.Query[..110] + "…" : s.Query;
                Console.WriteLine($"| {s.Role[3..]} | {s.Origin} | {F(s.Calls / j, 2)} | {F(s.TotalMs * 1000 / s.Calls, 0)} | {F(s.TotalMs / j, 3)} | `{text.Replace("|", "\\|")}` |");
            }
            string Ms(string origin) => F(first.Statements.Where(s => s.Origin == origin).Sum(s => s.TotalMs) / j, 3);
            Console.WriteLine($"\nall statements: {F(first.Statements.Sum(s => s.Calls) / j)} per job, {F(first.Statements.Sum(s => s.TotalMs) / j, 3)} ms of execution per job " +
                              $"(Hangfire {Ms("hangfire")} ms, session {Ms("session")} ms, ours {Ms("ours")} ms)");

            Console.WriteLine();
            Console.WriteLine($"bytes kept per job (default, {first.Jobs} jobs; table = heap + indexes + TOAST growth over the window, so it includes free space not yet reused)");
            Console.WriteLine("| table | bytes/job | live rows/job |");
            Console.WriteLine("| --- | ---: | ---: |");
            foreach (var t in first.Servers.SelectMany(sv => sv.Tables).Where(t => t.Bytes != 0 || t.Rows != 0).OrderByDescending(t => t.Bytes))
                Console.WriteLine($"| {t.Name} | {F(t.Bytes / j, 0)} | {F(t.Rows / j, 2)} |");
            Console.WriteLine($"| blob store (outputs) | {F(first.BlobBytes / j, 0)} | |");
        }

        if (File.Exists(Env("BENCH_RESULTS") + ".cold"))
        {
            var cold = File.ReadLines(Env("BENCH_RESULTS") + ".cold").Select(l => JsonSerializer.Deserialize<Cold>(l, Json)!).ToList();
            Console.WriteLine();
            Console.WriteLine($"a fresh Api's first {cold[0].Clients} concurrent requests (Prefer: wait, one worker already warm), medians over the rounds");
            Console.WriteLine("| setting | rounds | enqueue p50 ms | enqueue max ms | round trip p50 ms | round trip max ms | errors |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var g in cold.GroupBy(c => c.Tag))
                Console.WriteLine($"| {g.Key} | {g.Count()} | {F(Stats.Median(g.Select(c => c.EnqueueP50Ms)), 0)} | {F(Stats.Median(g.Select(c => c.EnqueueMaxMs)), 0)} | " +
                                  $"{F(Stats.Median(g.Select(c => c.LatencyP50Ms)), 0)} | {F(Stats.Median(g.Select(c => c.LatencyMaxMs)), 0)} | {g.Sum(c => c.Errors)} |");
        }

        if (idle.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("idle: workers waiting on an empty queue");
            Console.WriteLine("| idle workers | seconds | statements/s | Hangfire / session / ours | Postgres CPU ms/s | worker CPU ms/s |");
            Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var w in idle)
                Console.WriteLine($"| {w.Workers} | {F(w.Seconds, 0)} | {F(w.Statements.Sum(s => s.Calls) / w.Seconds, 2)} | {string.Join(" / ", new[] { "hangfire", "session", "ours" }.Select(o => F(w.Statements.Where(s => s.Origin == o).Sum(s => s.Calls) / w.Seconds, 2)))} | " +
                                  $"{F(w.CpuMs["postgres"] / w.Seconds, 1)} | {F(w.CpuMs["workers"] / w.Seconds, 1)} |");
        }

        if (first is not null)
        {
            // Ceilings if only one resource were the limit, from the first default window's per-job costs.
            double j = first.Jobs, pg = first.CpuMs["postgres"] / j, apiCpu = first.CpuMs["api"] / j, workerCpu = first.CpuMs["workers"] / j;
            Console.WriteLine();
            Console.WriteLine($"ceilings from the default {first.Workers}-worker window's per-job costs, each as if it were the only limit (one core = 1,000 CPU ms/s)");
            Console.WriteLine($"- Postgres: {F(pg, 2)} CPU ms/job → {F(1000 / pg, 0)} jobs/s per Postgres core");
            Console.WriteLine($"- Api: {F(apiCpu, 2)} CPU ms/job → {F(1000 / apiCpu, 0)} jobs/s per Api core");
            Console.WriteLine($"- worker (everything a worker does, the model included): {F(workerCpu, 2)} CPU ms/job → {F(1000 / workerCpu, 0)} jobs/s per worker core");
            Console.WriteLine($"- WAL: {F(first.WalBytes / j / 1024.0, 2)} KiB/job, {F(first.WalSyncs / j, 2)} syncs/job");
            foreach (var w in split.Where(w => w.Workers == first.Workers))
                foreach (var sv in w.Servers)
                    Console.WriteLine($"- {w.Variant}, {sv.Name} server alone: {F(sv.CpuMs / w.Jobs, 2)} CPU ms/job → {F(1000 / (sv.CpuMs / w.Jobs), 0)} jobs/s per core");
        }
    }
}
