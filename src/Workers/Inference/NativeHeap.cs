using System.Runtime.InteropServices;

namespace GanService.Workers.Inference;

/// <summary>
/// glibc's <c>malloc_trim</c>: hands the free pages of every malloc arena back to the OS. libtorch, SkiaSharp and the
/// runtime allocate through malloc, and glibc keeps what they free for reuse, so a worker's RSS ratchets up under load
/// and stays there. A no-op where there is no glibc (musl, other systems).
/// </summary>
public static partial class NativeHeap
{
    private static bool unavailable = !OperatingSystem.IsLinux();

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    /// <summary>Trims the native heap; false where there is no glibc to do it.</summary>
    public static bool Trim()
    {
        if (unavailable) return false;
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true;
            return false;
        }
    }
}
