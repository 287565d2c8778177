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
        await File.WriteAllBytesAsync(tmp, bytes.ToArray(), ct);
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

    public string? LocalPath(string key)
    {
        var path = Resolve(key);
        return File.Exists(path) ? path : null;
    }

    private string Resolve(string key)
    {
        var path = Path.GetFullPath(Path.Combine(root, key));
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"Blob key '{key}' leaves the store.", nameof(key));
        return path;
    }
}
