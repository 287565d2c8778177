using GanService.Bench;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using GanService.Models;
using GanService.Models.Dcgan;
using Npgsql;
using static TorchSharp.torch;
using Generator = GanService.Models.Dcgan.Generator;

if (args.Length > 0 && args[0] == "scalar-race") return GanService.Bench.ScalarRaceBench.Run(args);
if (args.Length > 0 && args[0] == "hangfire-fetch") return GanService.Bench.HangfireFetchBench.Run(args);
if (args.Length > 0 && args[0] == "progan-conv") return GanService.Bench.ProGanConvBench.Run(args);
if (args.Length > 0 && args[0].StartsWith("capacity-")) return await GanService.Bench.CapacityBench.RunAsync(args[0]);
if (args.Length > 0 && args[0] != "spine") return await GanService.Bench.BatchingBench.RunAsync(args[0]);

// Spine benchmark against a running service (bench/run-spine.sh starts one): queue pickup latency, Prefer: wait round
// trip beside the bare forward pass measured in this same process, and sustained POST /v1/generations.
var baseUrl = Environment.GetEnvironmentVariable("BENCH_URL") ?? "http://127.0.0.1:5090";
var key = Environment.GetEnvironmentVariable("BENCH_KEY") ?? throw new InvalidOperationException("BENCH_KEY is not set");
var pg = Environment.GetEnvironmentVariable("BENCH_PG") ?? throw new InvalidOperationException("BENCH_PG is not set");
var weights = Environment.GetEnvironmentVariable("BENCH_WEIGHTS") ?? "models/dcgan-fashion/generator.safetensors";
int pickups = int.Parse(Environment.GetEnvironmentVariable("BENCH_PICKUPS") ?? "200");
int roundTrips = int.Parse(Environment.GetEnvironmentVariable("BENCH_ROUNDTRIPS") ?? "200");
int loadSeconds = int.Parse(Environment.GetEnvironmentVariable("BENCH_LOAD_SECONDS") ?? "30");
int loadClients = int.Parse(Environment.GetEnvironmentVariable("BENCH_LOAD_CLIENTS") ?? "16");

using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(120) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

// 1. Bare forward pass, batch 1, the same way the worker runs it (one thread, inference mode).
set_num_threads(1);
var g = new Generator(DcganConfig.Fashion32);
Weights.Load(g, weights);
g.eval();
var forward = new List<double>();
for (int i = 0; i < 20 + roundTrips; i++)
{
    var sw = Stopwatch.StartNew();
    using (NewDisposeScope())
    using (inference_mode())
    {
        var z = Latents.ForSeeds([i], 100);
        var img = g.forward(z, tensor(new long[] { i % 10 }));
        _ = img.add(1).mul(127.5).to(ScalarType.Byte).data<byte>().ToArray();
    }
    if (i >= 20) forward.Add(sw.Elapsed.TotalMilliseconds);
}

// 2. Queue pickup: one job at a time, created_at → started_at as the worker recorded it.
var ids = new List<Guid>();
for (int i = 0; i < pickups; i++)
{
    var job = await Post("""{"count":1}""", wait: true);
    ids.Add(job.GetProperty("id").GetGuid());
}
var pickup = new List<double>();
await using (var conn = new NpgsqlConnection(pg))
{
    await conn.OpenAsync();
    await using var cmd = new NpgsqlCommand("SELECT extract(epoch from (started_at - created_at)) * 1000 FROM jobs WHERE id = ANY(@ids)", conn);
    cmd.Parameters.AddWithValue("ids", ids.ToArray());
    await using var reader = await cmd.ExecuteReaderAsync();
    while (await reader.ReadAsync()) pickup.Add(Convert.ToDouble(reader.GetValue(0)));
}

// 3. Prefer: wait round trip, one client, single image.
var rtt = new List<double>();
for (int i = 0; i < roundTrips; i++)
{
    var sw = Stopwatch.StartNew();
    var job = await Post($$"""{"count":1,"seed":{{i}}}""", wait: true);
    rtt.Add(sw.Elapsed.TotalMilliseconds);
    if (job.GetProperty("status").GetString() != "succeeded") throw new InvalidOperationException("job did not succeed: " + job);
}

// 4. Sustained submissions: N clients POST without waiting for loadSeconds; every answer must be 202.
long ok = 0, errors = 0;
var latencies = new List<double>();
var until = DateTime.UtcNow.AddSeconds(loadSeconds);
var clock = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, loadClients).Select(async c =>
{
    var mine = new List<double>();
    while (DateTime.UtcNow < until)
    {
        var sw = Stopwatch.StartNew();
        using var response = await http.PostAsync("/v1/generations", new StringContent("""{"count":1}""", Encoding.UTF8, "application/json"));
        mine.Add(sw.Elapsed.TotalMilliseconds);
        if ((int)response.StatusCode == 202) Interlocked.Increment(ref ok); else Interlocked.Increment(ref errors);
    }
    lock (latencies) latencies.AddRange(mine);
}));
double seconds = clock.Elapsed.TotalSeconds;

// Drain: every accepted job must finish (none lost).
await using (var conn = new NpgsqlConnection(pg))
{
    await conn.OpenAsync();
    var drain = Stopwatch.StartNew();
    long open;
    do
    {
        await Task.Delay(1000);
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM jobs WHERE status IN ('queued','running')", conn);
        open = (long)(await cmd.ExecuteScalarAsync())!;
    } while (open > 0 && drain.Elapsed < TimeSpan.FromMinutes(10));
    await using var done = new NpgsqlCommand("SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FROM jobs", conn);
    await using var r = await done.ExecuteReaderAsync();
    await r.ReadAsync();
    Console.WriteLine($"jobs in database: {r.GetInt64(1)}, succeeded: {r.GetInt64(0)}, still open after drain: {open}, drain took {drain.Elapsed.TotalSeconds:F0} s");
}

Console.WriteLine();
Console.WriteLine("| measurement | n | p50 ms | p95 ms | p99 ms |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
Row("bare forward pass, batch 1 (this process, 1 thread)", forward);
Row("queue pickup: accepted → started on the worker", pickup);
Row("POST /v1/generations, Prefer: wait, 1 image, 1 client", rtt);
Row($"POST /v1/generations (no wait) under load, {loadClients} clients", latencies);
Console.WriteLine();
Console.WriteLine($"round trip / bare forward (medians): {Stats.Percentile(rtt, 50) / Stats.Percentile(forward, 50):F1}x");
Console.WriteLine($"sustained submissions: {ok / seconds:F0} req/s over {seconds:F0} s with {loadClients} clients; {ok} accepted, {errors} errors");
return 0;

static void Row(string name, List<double> xs) =>
    Console.WriteLine($"| {name} | {xs.Count} | {Stats.Percentile(xs, 50):F2} | {Stats.Percentile(xs, 95):F2} | {Stats.Percentile(xs, 99):F2} |");

async Task<JsonElement> Post(string body, bool wait)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/generations") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    if (wait) request.Headers.Add("Prefer", "wait=30");
    using var response = await http.SendAsync(request);
    return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
}
