using System.Diagnostics;
using System.Net.Sockets;

namespace GanService.Api.Tests;

/// <summary>npm's s3rver, a real S3-compatible HTTP server, on a free loopback port with a folder of its own
/// (test.sh installs it under tools/node). Its default credentials are S3RVER / S3RVER.</summary>
public sealed class S3rver : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly Process process;
    private readonly StringWriter output = new();

    public string Url { get; }
    public string Directory { get; }

    private S3rver(Process process, string url, string directory)
    {
        this.process = process;
        Url = url;
        Directory = directory;
    }

    public static async Task<S3rver> StartAsync(string directory)
    {
        var tools = Environment.GetEnvironmentVariable("GANSERVICE_NODE_TOOLS")
            ?? throw new InvalidOperationException("GANSERVICE_NODE_TOOLS is not set: run the tests through ./test.sh, which installs s3rver.");
        System.IO.Directory.CreateDirectory(directory);
        int port = ServiceHost.FreePort();
        var info = new ProcessStartInfo(Path.Combine(tools, "s3rver")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-d", directory, "-a", "127.0.0.1", "-p", port.ToString(), "--no-vhost-buckets" }) info.ArgumentList.Add(a);
        var server = new S3rver(Process.Start(info)!, $"http://127.0.0.1:{port}", directory);
        server.process.OutputDataReceived += (_, e) => { lock (server.output) server.output.WriteLine(e.Data); };
        server.process.ErrorDataReceived += (_, e) => { lock (server.output) server.output.WriteLine(e.Data); };
        server.process.BeginOutputReadLine();
        server.process.BeginErrorReadLine();
        await ServiceHost.WaitUntilAsync(async () =>
        {
            if (server.process.HasExited) throw new InvalidOperationException("s3rver exited:\n" + server.Log());
            using var tcp = new TcpClient();
            try { await tcp.ConnectAsync("127.0.0.1", port); return true; }
            catch (SocketException) { return false; }
        }, TimeSpan.FromSeconds(30), "s3rver to listen");
        return server;
    }

    public string Log() { lock (output) return output.ToString(); }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
