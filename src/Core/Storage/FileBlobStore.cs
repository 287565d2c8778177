using Microsoft.Extensions.Options;

namespace GanService.Core.Storage;

public sealed class FileBlobStore(IOptions<StorageOptions> options) : IBlobStore
{
    private readonly string root = Path.GetFullPath(options.Value.Root);

    public async Task PutAsync(string key, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken ct)
    {
        var path = Resolve(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Write then rename, so a reader never sees half a file.
        var tmp = $"{path}.{Guid.NewGuid():N}.tmp";
        await using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, useAsync: true))
            await file.WriteAsync(bytes, ct);
        File.Move(tmp, path, overwrite: true);
    }

    public Task DeleteAsync(string key, CancellationToken ct)
    {
        var path = Resolve(key);
        try
        {
            File.Delete(path);
            // The job's folder goes with its last file.
            var folder = Path.GetDirectoryName(path)!;
            if (folder != root && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone, folder and all.
        }
        return Task.CompletedTask;
    }

    public Task<Blob?> OpenAsync(string key, CancellationToken ct)
    {
        var path = Resolve(key);
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            var written = File.GetLastWriteTimeUtc(stream.SafeFileHandle);
            // Blobs are written once (atomically, under a key per job output), so size and write time identify the
            // content, as nginx's ETag does, without reading the file.
            return Task.FromResult<Blob?>(new Blob(stream, stream.Length, written, $"\"{stream.Length:x}-{written.Ticks:x}\""));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Blob?>(null);
        }
    }

    public string? DirectLink(string key, DateTimeOffset expires) => null;

    private string Resolve(string key)
    {
        var path = Path.GetFullPath(Path.Combine(root, key));
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"Blob key '{key}' leaves the store.", nameof(key));
        return path;
    }
}
