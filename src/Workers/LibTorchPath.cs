using System.Runtime.InteropServices;

namespace GanService.Workers;

/// <summary>
/// Lets the worker use a libtorch found at run time (a CUDA build from a libtorch download, the libtorch CUDA NuGet
/// package's native folder, or a PyTorch wheel's <c>torch/lib</c> with its <c>nvidia/*/lib</c>): set
/// <c>GANSERVICE_LIBTORCH_DIR</c> (or <c>Worker__LibTorchDir</c>) to that folder. TorchSharp reads no variable of its
/// own and dlopens libtorch by name, and the dynamic loader reads LD_LIBRARY_PATH only when a process starts, so the
/// worker puts the folder first on LD_LIBRARY_PATH and re-executes itself once, before anything loads libtorch.
/// </summary>
public static class LibTorchPath
{
    private const string Marker = "GANSERVICE_LIBTORCH_REEXEC";

    public static string? ConfiguredDirectory =>
        (Environment.GetEnvironmentVariable("GANSERVICE_LIBTORCH_DIR") ?? Environment.GetEnvironmentVariable("Worker__LibTorchDir")) is { Length: > 0 } d
            ? Path.GetFullPath(d) : null;

    /// <summary>The folders to search: the libtorch folder, and for a PyTorch wheel its site-packages' nvidia/*/lib.</summary>
    public static IReadOnlyList<string> Folders(string dir)
    {
        var folders = new List<string> { dir };
        var sitePackages = Path.GetFullPath(Path.Combine(dir, "..", ".."));
        var nvidia = Path.Combine(sitePackages, "nvidia");
        if (Path.GetFileName(dir) == "lib" && Directory.Exists(nvidia))
            folders.AddRange(Directory.GetDirectories(nvidia).Select(d => Path.Combine(d, "lib")).Where(Directory.Exists).Order(StringComparer.Ordinal));
        return folders;
    }

    /// <summary>
    /// Returns normally when no folder is configured or it is already on LD_LIBRARY_PATH; otherwise replaces this
    /// process with the same command line and the folder on LD_LIBRARY_PATH (and only returns if that fails).
    /// </summary>
    public static void EnsureOnLibraryPath()
    {
        var dir = ConfiguredDirectory;
        if (dir is null || !OperatingSystem.IsLinux()) return;
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"GANSERVICE_LIBTORCH_DIR '{dir}' does not exist.");
        var current = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "";
        var folders = Folders(dir);
        if (current.Split(':').Contains(dir) || Environment.GetEnvironmentVariable(Marker) == "1") return;

        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
        env["LD_LIBRARY_PATH"] = string.Join(':', folders) + (current.Length > 0 ? ":" + current : "");
        env[Marker] = "1";
        // The exact argv this process started with (dotnet host + dll + verbs, or the apphost + verbs).
        var argv = File.ReadAllText("/proc/self/cmdline").TrimEnd('\0').Split('\0');
        var envp = env.Select(e => $"{e.Key}={e.Value}").ToArray();
        Console.Error.WriteLine($"libtorch: re-executing with {string.Join(':', folders)} on LD_LIBRARY_PATH");
        execve(Environment.ProcessPath!, [.. argv, null], [.. envp, null]);
        throw new InvalidOperationException($"execve failed (errno {Marshal.GetLastPInvokeError()}); put {dir} on LD_LIBRARY_PATH yourself.");
    }

    /// <summary>Where the loaded libtorch came from, from /proc/self/maps (after the first tensor).</summary>
    public static string? LoadedFrom() =>
        OperatingSystem.IsLinux()
            ? File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault())
                .FirstOrDefault(p => p is not null && Path.GetFileName(p).StartsWith("libtorch_cpu.so", StringComparison.Ordinal))
            : null;

    /// <summary>
    /// Turns libtorch's NNPACK off (loads libtorch if it is not loaded yet). On CPUs NNPACK does not support, libtorch
    /// otherwise tries it on every batch-1 convolution and writes "Could not initialize NNPACK! Reason: Unsupported
    /// hardware." to stderr each time, then falls back to the convolution it would have used anyway. TorchSharp has
    /// no binding for the switch, so this calls at::globalContext().setUserEnabledNNPACK(false) in the libtorch that
    /// /proc/self/maps shows loaded (the CPU one from NuGet, or a CUDA one from <see cref="ConfiguredDirectory"/>).
    /// </summary>
    public static unsafe void DisableNnpack()
    {
        using (TorchSharp.torch.zeros(1)) { }
        var path = LoadedFrom();
        if (path is null) return;
        var lib = NativeLibrary.Load(path);
        var context = ((delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(lib, "_ZN2at13globalContextEv"))();
        ((delegate* unmanaged<IntPtr, byte, void>)NativeLibrary.GetExport(lib, "_ZN2at7Context20setUserEnabledNNPACKEb"))(context, 0);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int execve(string path, string?[] argv, string?[] envp);
}
