using System.Diagnostics;

namespace GanService.Api.Tests;

/// <summary>
/// A PostgreSQL cluster of one test's own (initdb'd from the binaries test.sh found), so that a test can stop and
/// restart the server without touching the cluster every other test shares. As root the programs run as the
/// postgres user, from a postgres-owned folder, as scripts/lib.sh does.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private static readonly bool Root = Environment.UserName == "root";
    private readonly string bin;

    public string Dir { get; }
    public int Port { get; }
    public string Server => $"Host=127.0.0.1;Port={Port};Username=postgres";

    private PrivatePostgres(string bin, string dir, int port)
    {
        this.bin = bin;
        Dir = dir;
        Port = port;
    }

    public static async Task<PrivatePostgres> StartNewAsync()
    {
        var bin = Environment.GetEnvironmentVariable("GANSERVICE_TEST_PG_BIN")
            ?? throw new InvalidOperationException("GANSERVICE_TEST_PG_BIN is not set: run the tests through ./test.sh.");
        var dir = Path.Combine(Root ? "/var/tmp" : Path.GetTempPath(), "ganservice-test-pg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        if (Root) await RunAsync("chown", ["postgres:postgres", dir]);
        var pg = new PrivatePostgres(bin, dir, StablePort());
        await pg.RunPgAsync("initdb", "-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8");
        await pg.StartAsync();
        return pg;
    }

    /// <summary>A free port below Linux's ephemeral range (32768+), so that while the server is stopped no outgoing
    /// connection or port-0 listener of another test can take it before the restart.</summary>
    private static int StablePort()
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int port = Random.Shared.Next(20_000, 32_000);
            try
            {
                using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
        }
        throw new InvalidOperationException("no free port in 20000..32000");
    }

    public Task StartAsync() => RunPgAsync("pg_ctl", "-D", Dir, "-l", Path.Combine(Dir, "server.log"), "-w", "-t", "60",
        "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -k {Dir} -c max_connections=200 -c fsync=off", "start");

    /// <summary>Stops the server the way a crash would: every session cut, no checkpoint (recovery on the next start).</summary>
    public Task StopAsync() => RunPgAsync("pg_ctl", "-D", Dir, "-m", "immediate", "-w", "stop");

    public async ValueTask DisposeAsync()
    {
        try { await StopAsync(); } catch (InvalidOperationException) { /* already stopped */ }
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private Task RunPgAsync(string program, params string[] args)
    {
        var path = Path.Combine(bin, program);
        return Root ? RunAsync("runuser", ["-u", "postgres", "--", path, .. args]) : RunAsync(path, args);
    }

    private static async Task RunAsync(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}:\n{await output}\n{await error}");
    }
}
