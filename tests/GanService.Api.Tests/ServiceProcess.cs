using System.Diagnostics;

namespace GanService.Api.Tests;

/// <summary>One of our processes (Api or Worker) started for real, its output kept in a log file for diagnosis.</summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process process;
    private readonly StreamWriter logFile;

    public string LogPath { get; }
    public int Id => process.Id;
    public bool HasExited => process.HasExited;

    public ServiceProcess(string dll, string arguments, IReadOnlyDictionary<string, string> env, string logPath)
    {
        LogPath = logPath;
        logFile = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var (k, v) in env) info.Environment[k] = v;
        process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (logFile) logFile.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (logFile) logFile.WriteLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>SIGKILL: no shutdown hooks, no chance to finish anything.</summary>
    public void Kill()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, then SIGKILL if it has not stopped within the timeout.</summary>
    public void Stop(TimeSpan timeout)
    {
        if (process.HasExited) return;
        Posix.Kill(process.Id, 15);
        if (!process.WaitForExit(timeout)) Kill();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    private bool disposed;

    public string Log()
    {
        lock (logFile) if (!disposed) logFile.Flush();
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public void Dispose()
    {
        if (disposed) return;
        Stop(TimeSpan.FromSeconds(10));
        process.Dispose();
        lock (logFile)
        {
            disposed = true;
            logFile.Dispose();
        }
    }

    private static class Posix
    {
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true, EntryPoint = "kill")]
        public static extern int Kill(int pid, int signal);
    }
}
