namespace GanService.Core.Storage;

/// <summary>Where result files live: a local folder by default, S3-compatible storage when scaled out.</summary>
public interface IBlobStore
{
    /// <summary>Writes (or overwrites: a retried job rewrites the same bytes) the blob under <paramref name="key"/>.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken ct);

    /// <summary>Removes the blob; a missing one is not an error (a sweep may run twice).</summary>
    Task DeleteAsync(string key, CancellationToken ct);

    /// <summary>The local file behind a key, or null when the store is not a local one or the blob is missing.</summary>
    string? LocalPath(string key);
}

public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Folder of the file blob store. Relative paths are taken from the content root.</summary>
    public string Root { get; set; } = ".data/blobs";

    /// <summary>HMAC key for signed file links (base64 or any string of ≥ 32 characters).</summary>
    public string SigningKey { get; set; } = "";

    /// <summary>How long a signed link stays valid.</summary>
    public int LinkTtlSeconds { get; set; } = 3600;
}
