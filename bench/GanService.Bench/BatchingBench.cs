using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using GanService.Models;
using GanService.Models.Dcgan;
using TorchSharp;
using static TorchSharp.torch;
using Generator = GanService.Models.Dcgan.Generator;

namespace GanService.Bench;

/// <summary>
/// The GPU-worker benchmark's parts (bench/run-batching.sh runs them in order against one service):
/// <c>forward</c>: raw generator throughput at batch 1–256 in this process;
/// <c>clients</c>: jobs/s and Prefer: wait latency with 1, 8, 64 concurrent single-image clients (one line per client
/// count, appended to BENCH_RESULTS, tagged with BENCH_TAG, e.g. batching on/off);
/// <c>memory</c>: the worker's RSS over 10,000 jobs after a warm-up;
/// <c>report</c>: the Markdown table of medians over rounds and the on/off ratios.
/// </summary>
public static class BatchingBench
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public sealed record ClientsResult(string Tag, int Clients, int Round, double JobsPerSecond, double P50Ms, double P99Ms, long Errors, double MeanBatch);

    public static async Task<int> RunAsync(string part)
    {
        switch (part)
        {
            case "forward": Forward(); return 0;
            case "clients": await ClientsAsync(); return 0;
            case "memory": await MemoryAsync(); return 0;
            case "report": Report(); return 0;
            default: Console.Error.WriteLine("usage: GanService.Bench [spine|forward|clients|memory|report]"); return 2;
        }
    }

    static string Env(string name, string? fallback = null) =>
        Environment.GetEnvironmentVariable(name) ?? fallback ?? throw new InvalidOperationException($"{name} is not set");

    static void Forward()
    {
        var weights = Env("BENCH_WEIGHTS", "models/dcgan-fashion/generator.safetensors");
        int threads = int.Parse(Env("BENCH_TORCH_THREADS", "0"));
        if (threads > 0) set_num_threads(threads);
        var (device, deviceName) = Devices.Choose(Env("BENCH_DEVICE", "auto"));
        var configs = new (string Name, DcganConfig Config, string? Weights)[]
        {
            ("dcgan-fashion 32×32 grey (shipped)", DcganConfig.Fashion32, weights),
            ("DCGAN reference 64×64 RGB (random weights)", DcganConfig.Reference64, null),
        };
        Console.WriteLine($"raw forward throughput on {deviceName}{(device.type == DeviceType.CPU ? $", {get_num_threads()} torch threads" : "")}, median of repeats (latents made on the CPU, pixels back on the CPU)");
        Console.WriteLine("| generator | batch | median ms | images/s | per image vs batch 1 |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var (name, config, path) in configs)
        {
            using var g = new Generator(config);
            if (path is not null) Weights.Load(g, path);
            g.to(device);
            g.eval();
            double? single = null;
            foreach (int batch in new[] { 1, 8, 64, 256 })
            {
                var seeds = Enumerable.Range(0, batch).Select(i => (long)i).ToArray();
                var labels = config.NumClasses > 0 ? seeds.Select(s => s % config.NumClasses).ToArray() : null;
                int repeats = Math.Clamp(2048 / batch, 5, 200);
                var times = new List<double>();
                for (int r = 0; r < repeats + 2; r++)
                {
                    var sw = Stopwatch.StartNew();
                    using (NewDisposeScope())
                    using (inference_mode())
                    {
                        var z = Latents.ForSeeds(seeds, config.LatentDim).to(device);
                        var y = labels is null ? null : tensor(labels).to(device);
                        _ = g.forward(z, y).add(1).mul(127.5).to(ScalarType.Byte).cpu().data<byte>().ToArray();
                    }
                    if (r >= 2) times.Add(sw.Elapsed.TotalMilliseconds);
                }
                double ms = Stats.Median(times), perImage = ms / batch;
                single ??= perImage;
                if (path is not null && batch == 1 && Environment.GetEnvironmentVariable("BENCH_RESULTS") is { } results)
                    File.WriteAllText(results + ".forward", ms.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Console.WriteLine($"| {name} | {batch} | {ms:F2} | {batch / ms * 1000:F0} | {single / perImage:F1}× |");
            }
        }
    }

    static HttpClient Client()
    {
        var http = new HttpClient { BaseAddress = new Uri(Env("BENCH_URL", "http://127.0.0.1:5090")), Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Env("BENCH_KEY"));
        http.DefaultRequestHeaders.Add("Prefer", "wait=60");
        return http;
    }

    /// <summary>N clients, each posting a single-image job with Prefer: wait and posting the next when it returns.</summary>
    internal static async Task<(long Ok, long Errors, List<double> Latencies, List<int> Batches, double Seconds)> Closed(
        HttpClient http, int clients, Func<bool> more)
    {
        long ok = 0, errors = 0;
        var latencies = new List<double>();
        var batches = new List<int>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var mine = new List<double>();
            var myBatches = new List<int>();
            long seed = c * 1_000_000L;
            while (more())
            {
                var sw = Stopwatch.StartNew();
                using var response = await http.PostAsync("/v1/generations",
                    new StringContent($$"""{"count":1,"seed":{{seed++}}}""", Encoding.UTF8, "application/json"));
                var body = await response.Content.ReadAsStringAsync();
                mine.Add(sw.Elapsed.TotalMilliseconds);
                using var doc = JsonDocument.Parse(body);
                if ((int)response.StatusCode == 200 && doc.RootElement.GetProperty("status").GetString() == "succeeded")
                {
                    Interlocked.Increment(ref ok);
                    myBatches.Add(doc.RootElement.GetProperty("metrics").GetProperty("batchImages").GetInt32());
                }
                else Interlocked.Increment(ref errors);
            }
            lock (latencies) { latencies.AddRange(mine); batches.AddRange(myBatches); }
        }));
        return (ok, errors, latencies, batches, clock.Elapsed.TotalSeconds);
    }

    static async Task ClientsAsync()
    {
        string tag = Env("BENCH_TAG"), results = Env("BENCH_RESULTS");
        int round = int.Parse(Env("BENCH_ROUND", "1")), seconds = int.Parse(Env("BENCH_SECONDS", "10"));
        var counts = Env("BENCH_CLIENTS", "1,8,64").Split(',').Select(int.Parse);
        using var http = Client();
        await FirstJobAsync(http);
        // Warm-up: the model load and the first JIT-compiled paths are not what is measured.
        var warm = DateTime.UtcNow.AddSeconds(2);
        await Closed(http, 8, () => DateTime.UtcNow < warm);
        foreach (int clients in counts)
        {
            var until = DateTime.UtcNow.AddSeconds(seconds);
            var (ok, errors, latencies, batches, elapsed) = await Closed(http, clients, () => DateTime.UtcNow < until);
            var r = new ClientsResult(tag, clients, round, ok / elapsed, Stats.Percentile(latencies, 50), Stats.Percentile(latencies, 99), errors,
                batches.Count == 0 ? 0 : batches.Average());
            Console.WriteLine($"{tag} round {round}: {clients} clients → {r.JobsPerSecond:F1} jobs/s, p50 {r.P50Ms:F1} ms, p99 {r.P99Ms:F1} ms, mean batch {r.MeanBatch:F1}, {errors} errors");
            File.AppendAllText(results, JsonSerializer.Serialize(r, Json) + "\n");
        }
    }

    /// <summary>
    /// Waits until one job has gone through end to end. A worker started just before takes seconds to begin taking
    /// jobs (15 s for the first one here), and a warm-up shorter than that left its queued jobs to the first client
    /// count measured: it was the ~1 s p99 at 1 client on this CPU.
    /// </summary>
    static async Task FirstJobAsync(HttpClient http)
    {
        for (int i = 0; i < 10; i++)
        {
            using var response = await http.PostAsync("/v1/generations", new StringContent("""{"count":1}""", Encoding.UTF8, "application/json"));
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            if ((int)response.StatusCode == 200 && doc.RootElement.GetProperty("status").GetString() == "succeeded") return;
        }
        throw new InvalidOperationException("no job finished within 10 minutes: is a worker running?");
    }

    /// <summary>The numeric fields of /proc/PID/status (kB for the memory ones), read once.</summary>
    static Dictionary<string, long> Status(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Select(l => l.Split([':', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 2 && long.TryParse(f[1], out _)).ToDictionary(f => f[0], f => long.Parse(f[1]));

    static long RssKb(int pid) => Status(pid)["VmRSS"];

    /// <summary>RSS with its parts: anonymous (heaps: managed, malloc's, libtorch's), file-backed (mapped libraries) and
    /// shared memory (.NET maps its JIT-compiled code twice, writable and executable, through it).</summary>
    static string Rss(int pid)
    {
        var s = Status(pid);
        return $"{s["VmRSS"] / 1024.0:F1} MiB (anonymous {s["RssAnon"] / 1024.0:F1}, files {s["RssFile"] / 1024.0:F1}, shared {s["RssShmem"] / 1024.0:F1}), " +
               $"{s["Threads"]} threads" + ManagedHeap();
    }

    /// <summary>The worker's managed heap after its last GC and the GC's committed memory, from its Prometheus endpoint
    /// (BENCH_WORKER_METRICS, the runtime's System.Runtime meter); empty when unset or absent.</summary>
    static string ManagedHeap()
    {
        if (Environment.GetEnvironmentVariable("BENCH_WORKER_METRICS") is not { Length: > 0 } url) return "";
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var lines = http.GetStringAsync(url).GetAwaiter().GetResult().Split('\n');
            double Sum(string name) => lines.Where(l => l.StartsWith(name)).Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            return $"; managed heap {Sum("dotnet_gc_last_collection_heap_size_bytes") / 1048576:F1} MiB, GC committed {Sum("dotnet_gc_last_collection_memory_committed_size_bytes") / 1048576:F1} MiB, " +
                   $"JIT {Sum("dotnet_jit_compiled_il_size_bytes") / 1048576:F1} MiB of IL";
        }
        catch (Exception e) { return $"; no metrics ({e.Message})"; }
    }

    static async Task MemoryAsync()
    {
        int pid = int.Parse(Env("BENCH_WORKER_PID"));
        int jobs = int.Parse(Env("BENCH_MEMORY_JOBS", "10000")), warmup = int.Parse(Env("BENCH_MEMORY_WARMUP", "1000"));
        using var http = Client();
        await FirstJobAsync(http);
        long issued = 0;
        await Closed(http, 64, () => Interlocked.Increment(ref issued) <= warmup);
        // Let the GC settle the warm-up's garbage before the baseline.
        await Task.Delay(2000);
        long start = RssKb(pid), peak = start;
        Console.WriteLine($"worker RSS after {warmup} warm-up jobs: {Rss(pid)}");
        issued = 0;
        long reported = 0;
        var sampler = Task.Run(async () =>
        {
            while (Interlocked.Read(ref issued) < jobs)
            {
                await Task.Delay(500);
                peak = Math.Max(peak, RssKb(pid));
                long done = Interlocked.Read(ref issued) / 1000 * 1000;
                if (done > reported) { reported = done; Console.WriteLine($"  after ~{done} jobs: {Rss(pid)}"); }
            }
        });
        var (ok, errors, _, _, elapsed) = await Closed(http, 64, () => Interlocked.Increment(ref issued) <= jobs);
        await sampler;
        await Task.Delay(2000);
        long end = RssKb(pid);
        Console.WriteLine($"worker RSS over {ok} jobs ({errors} errors, {ok / elapsed:F0} jobs/s): {start / 1024.0:F1} → {end / 1024.0:F1} MiB " +
                          $"({(end - start) * 100.0 / start:+0.0;-0.0}%), peak {peak / 1024.0:F1} MiB; at the end {Rss(pid)}");
    }

    static void Report()
    {
        var results = Env("BENCH_RESULTS");
        var rows = File.ReadLines(results).Select(l => JsonSerializer.Deserialize<ClientsResult>(l, Json)!).ToList();
        Console.WriteLine($"service jobs/s, single-image Prefer: wait clients, median over {rows.Max(r => r.Round)} rounds run alternately");
        Console.WriteLine("| clients | batching on jobs/s | batching off jobs/s | on / off | on p50 / p99 ms | off p50 / p99 ms | mean batch (on) | errors |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var group in rows.GroupBy(r => r.Clients).OrderBy(g => g.Key))
        {
            var on = group.Where(r => r.Tag == "on").ToList();
            var off = group.Where(r => r.Tag == "off").ToList();
            double onJps = Stats.Median(on.Select(r => r.JobsPerSecond)), offJps = Stats.Median(off.Select(r => r.JobsPerSecond));
            Console.WriteLine($"| {group.Key} | {onJps:F1} | {offJps:F1} | {onJps / offJps:F2}× | " +
                              $"{Stats.Median(on.Select(r => r.P50Ms)):F1} / {Stats.Median(on.Select(r => r.P99Ms)):F1} | " +
                              $"{Stats.Median(off.Select(r => r.P50Ms)):F1} / {Stats.Median(off.Select(r => r.P99Ms)):F1} | " +
                              $"{Stats.Median(on.Select(r => r.MeanBatch)):F1} | {group.Sum(r => r.Errors)} |");
        }
        var light = rows.Where(r => r.Tag == "on" && r.Clients == 1).ToList();
        if (light.Count > 0 && File.Exists(results + ".forward"))
        {
            double forward = double.Parse(File.ReadAllText(results + ".forward"), System.Globalization.CultureInfo.InvariantCulture);
            double p50 = Stats.Median(light.Select(r => r.P50Ms)), p99 = Stats.Median(light.Select(r => r.P99Ms));
            Console.WriteLine();
            Console.WriteLine($"light load (1 client, batching on): Prefer: wait p50 {p50:F1} ms, p99 {p99:F1} ms; bare forward batch 1 {forward:F2} ms " +
                              $"→ p50 is {p50 / forward:F0}× the forward");
        }
    }
}
