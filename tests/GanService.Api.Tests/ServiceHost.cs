using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using GanService.Core.Models;
using Npgsql;

namespace GanService.Api.Tests;

/// <summary>
/// A whole GanService for tests: its own database on the test cluster (test.sh starts it), migrations applied, a
/// real Worker process and a real Api process on a free loopback port.
/// </summary>
public class ServiceHost : IAsyncLifetime
{
    public static readonly string RepoRoot = FindRepoRoot();
    public static readonly string SigningKey = "test-signing-key-" + new string('x', 40);

    private readonly List<ServiceProcess> workers = [];
    private ServiceProcess? api;
    private string server = "";

    public string Database { get; } = "gs_test_" + Guid.NewGuid().ToString("N")[..12];
    public string ConnectionString { get; private set; } = "";
    public string BootstrapKey { get; } = "gsk_test" + Guid.NewGuid().ToString("N");
    public string BaseUrl { get; private set; } = "";
    public string Scratch { get; } = Path.Combine(Path.GetTempPath(), "ganservice-tests", Guid.NewGuid().ToString("N")[..8]);
    public HttpClient Client { get; private set; } = null!;

    /// <summary>The OTLP collector every process of this host exports its traces to.</summary>
    public OtlpReceiver Otlp { get; } = new();

    /// <summary>Extra settings for this host's processes (e.g. short timeouts in fault tests).</summary>
    protected virtual IReadOnlyDictionary<string, string> ExtraEnv => new Dictionary<string, string>();

    protected virtual bool StartWorkerAtOnce => true;

    /// <summary>The PostgreSQL server (a connection string without a database) the host's database is made on: the
    /// test cluster test.sh starts, unless a host brings its own.</summary>
    protected virtual Task<string> ServerAsync() => Task.FromResult(Environment.GetEnvironmentVariable("GANSERVICE_TEST_PG")
        ?? throw new InvalidOperationException("GANSERVICE_TEST_PG is not set: run the tests through ./test.sh, which starts the test PostgreSQL."));

    public static string Bin(string project) =>
        Path.Combine(RepoRoot, "artifacts", "bin", project, Configuration, project + ".dll");

#if DEBUG
    private const string Configuration = "debug";
#else
    private const string Configuration = "release";
#endif

    /// <summary>Starts what the host's settings point at before its processes start (e.g. an S3 server).</summary>
    protected virtual Task BeforeStartAsync() => Task.CompletedTask;

    /// <summary>Runs once the host's database exists, before migrate (e.g. to create a second database).</summary>
    protected virtual Task BeforeMigrateAsync() => Task.CompletedTask;

    private readonly List<string> databases = [];

    /// <summary>Creates a database on the host's server, dropped with the host; returns its connection string.</summary>
    protected async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var admin = new NpgsqlConnection(server + ";Database=postgres"))
        {
            await admin.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await cmd.ExecuteNonQueryAsync();
        }
        databases.Add(name);
        return server + $";Database={name};Maximum Pool Size=30";
    }

    /// <summary>Name of the Stage-I-only text-to-image model the shared host registers besides the shipped ones.</summary>
    public const string StageOneOnlyModel = "stackgan-stage-one";

    /// <summary>
    /// Whether this host also serves <see cref="StageOneOnlyModel"/>: the shipped StackGAN's Stage-I packed alone (not a
    /// default), as a user who trained only Stage-I would serve it. Only the shared host needs it.
    /// </summary>
    protected virtual bool WithStageOneOnlyModel => GetType() == typeof(ServiceHost);

    /// <summary>Packs <see cref="StageOneOnlyModel"/> from the snapshot's stackgan-emoji with the worker's own commands.</summary>
    private async Task PackStageOneOnlyModelAsync()
    {
        string models = Path.Combine(Scratch, "models"), stages = Path.Combine(Scratch, "stage-one-only");
        string target = Path.Combine(models, StageOneOnlyModel);
        await RunWorkerCommandAsync($"pack-stackgan --out {Path.Combine(models, "stackgan-emoji")} --extract-stage-one {stages}", "pack-stackgan.log");
        await RunWorkerCommandAsync($"pack-stackgan --stages {stages} --stage-one-only --encoder {Path.Combine(models, "emoji-text-encoder")} --out {target}",
            "pack-stackgan.log");
        var manifest = Path.Combine(target, "model.json");
        File.WriteAllText(manifest, System.Text.Json.JsonSerializer.Serialize(ModelManifest.Read(manifest) with { IsDefault = false }, ModelManifest.Json) + "\n");
    }

    /// <summary>Runs a GanService.Workers command with this host's environment to its end; throws with its log if it fails.</summary>
    private async Task RunWorkerCommandAsync(string args, string logName)
    {
        using var command = new ServiceProcess(Bin("GanService.Workers"), args, Env(), Path.Combine(Scratch, logName));
        int code = await command.WaitForExitAsync(TimeSpan.FromMinutes(2));
        if (code != 0) throw new InvalidOperationException($"{args.Split(' ')[0]} failed:\n" + command.Log());
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Scratch);
        await BeforeStartAsync();
        server = await ServerAsync();
        // A snapshot of the shipped models: the tests must not see weights change under them (a training run may be writing).
        CopyDirectory(Path.Combine(RepoRoot, "models"), Path.Combine(Scratch, "models"));
        ConnectionString = await CreateDatabaseAsync(Database);
        if (WithStageOneOnlyModel) await PackStageOneOnlyModelAsync();
        await BeforeMigrateAsync();

        await RunWorkerCommandAsync("migrate", "migrate.log");

        if (StartWorkerAtOnce) StartWorker();
        int port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}";
        api = new ServiceProcess(Bin("GanService.Api"), $"--urls {BaseUrl}", Env(), Path.Combine(Scratch, "api.log"));
        Client = NewClient(BootstrapKey);
        await WaitUntilAsync(async () =>
        {
            if (api.HasExited) throw new InvalidOperationException("The Api exited:\n" + api.Log());
            try { return (await Client.GetAsync("/health/ready")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, TimeSpan.FromSeconds(90), "the Api to be ready");
    }

    public HttpClient NewClient(string? key)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(100) };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public Dictionary<string, string> Env(IReadOnlyDictionary<string, string>? extra = null)
    {
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = ConnectionString,
            ["Auth__BootstrapKey"] = BootstrapKey,
            ["Storage__SigningKey"] = SigningKey,
            ["Storage__Root"] = Path.Combine(Scratch, "blobs"),
            ["Models__Root"] = Path.Combine(Scratch, "models"),
            ["Datasets__Root"] = Path.Combine(RepoRoot, ".data", "datasets"),
            ["Worker__CheckpointRoot"] = Path.Combine(Scratch, "checkpoints"),
            ["Worker__EvaluationImages"] = "2000",
            ["Api__ApiKeyCacheSeconds"] = "1",
            // The shared hosts' tests fire bursts (the fuzzer) with one key; RateLimitTests has its own host with limits.
            ["Api__RateLimitPerSecond"] = "100000",
            ["Api__RateLimitBurst"] = "100000",
            ["Api__MaxQueuedJobsPerKey"] = "0",
            ["Worker__TorchThreads"] = "1",
            ["Worker__ReconcileSeconds"] = "1",
            ["Worker__ReconcileGraceSeconds"] = "2",
            ["Queue__PollIntervalSeconds"] = "1",
            // WebhookTests' receiver listens on 127.0.0.1; other internal addresses stay refused. Short retries.
            ["Webhooks__AllowedNetworks"] = "127.0.0.1/32",
            ["Webhooks__RetrySchedule"] = "1,1",
            ["Webhooks__TimeoutSeconds"] = "1.5",
            ["Webhooks__PollMilliseconds"] = "100",
            ["Serilog__MinimumLevel__Override__Microsoft.EntityFrameworkCore"] = "Warning",
            ["DOTNET_gcServer"] = "0",
        };
        foreach (var (k, v) in Otlp.Environment()) env[k] = v;
        foreach (var (k, v) in ExtraEnv) env[k] = v;
        if (extra is not null) foreach (var (k, v) in extra) env[k] = v;
        return env;
    }

    /// <summary>Each started worker's Prometheus scrape URL, in start order.</summary>
    public List<string> WorkerMetricsUrls { get; } = [];

    public ServiceProcess StartWorker(IReadOnlyDictionary<string, string>? extra = null)
    {
        // Every worker serves its metrics on a port of its own, so a test can scrape it. The host is left at its default,
        // every interface, as the worker images run it (scraped here through loopback).
        int metricsPort = FreePort();
        var env = Env(new Dictionary<string, string> { ["Worker__MetricsPort"] = metricsPort.ToString() });
        if (extra is not null) foreach (var (k, v) in extra) env[k] = v;
        var worker = new ServiceProcess(Bin("GanService.Workers"), "run", env, Path.Combine(Scratch, $"worker{workers.Count}.log"));
        workers.Add(worker);
        WorkerMetricsUrls.Add($"http://localhost:{metricsPort}/metrics");
        return worker;
    }

    public Task<T?> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters) => ScalarOnAsync<T>(ConnectionString, sql, parameters);

    /// <summary>The first column of the first row of <paramref name="sql"/> on the database <paramref name="connectionString"/> names.</summary>
    public static async Task<T?> ScalarOnAsync<T>(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        var result = await cmd.ExecuteScalarAsync();
        return result is null or DBNull ? default : (T)result;
    }

    public async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? details = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(200);
        }
        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0} s waiting for {what}.\n{details?.Invoke()}");
    }

    /// <summary>Everything the processes printed, for assertion messages.</summary>
    public string Logs() => Logs(4000);

    public string Logs(int tailChars) => string.Join("\n", new[] { api }.Concat(workers).Where(p => p is not null)
        .Select(p => $"--- {Path.GetFileName(p!.LogPath)}\n{Tail(p.Log(), tailChars)}"));

    private static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];

    public virtual async Task DisposeAsync()
    {
        Client?.Dispose();
        api?.Dispose();
        foreach (var w in workers) w.Dispose();
        await Otlp.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        foreach (var name in databases)
        {
            try
            {
                await using var admin = new NpgsqlConnection(server + ";Database=postgres");
                await admin.OpenAsync();
                await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
                await cmd.ExecuteNonQueryAsync();
            }
            catch (NpgsqlException)
            {
                // The cluster is thrown away by test.sh anyway.
            }
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GanService.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("GanService.sln not found above " + AppContext.BaseDirectory);
    }
}

[CollectionDefinition(Name)]
public sealed class ServiceCollection : ICollectionFixture<ServiceHost>
{
    public const string Name = "service";
}
