namespace GanService.Core.Storage;

/// <summary>Where result files live: a local folder by default (<see cref="FileBlobStore"/>), S3-compatible storage
/// when scaled out (<see cref="S3BlobStore"/>), chosen by Storage:Provider.</summary>
public interface IBlobStore
{
    /// <summary>Writes (or overwrites: a retried job rewrites the same bytes) the blob under <paramref name="key"/>.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken ct);

    /// <summary>Removes the blob; a missing one is not an error (a sweep may run twice).</summary>
    Task DeleteAsync(string key, CancellationToken ct);

    /// <summary>The blob's bytes with what HTTP caching needs, or null when it is missing. The caller disposes it.</summary>
    Task<Blob?> OpenAsync(string key, CancellationToken ct);

    /// <summary>A link clients fetch the blob from directly, valid until <paramref name="expires"/> (an S3 presigned
    /// URL), or null when the store has none and links go through the Api's signed /files/ endpoint.</summary>
    string? DirectLink(string key, DateTimeOffset expires);
}

/// <param name="Content">Seekable for the file store (range requests work), a network stream for S3.</param>
/// <param name="ETag">Quoted, as HTTP sends it.</param>
public sealed record Blob(Stream Content, long Length, DateTimeOffset LastModified, string ETag) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

public sealed class StorageOptions : ISelfValidatingOptions
{
    public const string Section = "Storage";

    /// <summary>"file" (default: the folder <see cref="Root"/>) or "s3" (<see cref="S3"/>).</summary>
    public string Provider { get; set; } = "file";

    /// <summary>Folder of the file blob store, and of imported model weights with either provider. Relative paths are
    /// taken from the content root.</summary>
    public string Root { get; set; } = ".data/blobs";

    /// <summary>HMAC key for signed file links (base64 or any string of ≥ 32 characters).</summary>
    public string SigningKey { get; set; } = "";

    /// <summary>How long a signed link (or an S3 presigned one) stays valid.</summary>
    public int LinkTtlSeconds { get; set; } = 3600;

    public S3StorageOptions S3 { get; set; } = new();

    public bool IsS3 => string.Equals(Provider, "s3", StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when valid, else what is wrong (startup refuses to run with it).</summary>
    public string? Validate()
    {
        if (SigningKey.Length < 32) return "Storage:SigningKey must be at least 32 characters.";
        if (LinkTtlSeconds < 1) return "Storage:LinkTtlSeconds must be at least 1.";
        if (!IsS3) return string.Equals(Provider, "file", StringComparison.OrdinalIgnoreCase) ? null : $"Storage:Provider '{Provider}' is not 'file' or 's3'.";
        if (LinkTtlSeconds > 604_800) return "Storage:LinkTtlSeconds must be at most 604800 with S3 (a presigned link lasts at most 7 days).";
        if (string.IsNullOrWhiteSpace(S3.Bucket)) return "Storage:S3:Bucket must be set when Storage:Provider is s3.";
        foreach (var (name, url) in new[] { ("ServiceUrl", S3.ServiceUrl), ("PublicUrl", S3.PublicUrl) })
            if (url.Length > 0 && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                return $"Storage:S3:{name} '{url}' is not an absolute http(s) URL.";
        if (S3.PublicUrl.Length > 0 && S3.ServiceUrl.Length == 0) return "Storage:S3:PublicUrl needs Storage:S3:ServiceUrl (it renames that endpoint for clients).";
        if (S3.Prefix.Split('/').Any(s => s is "." or "..") || S3.Prefix.StartsWith('/')) return $"Storage:S3:Prefix '{S3.Prefix}' must be a relative path without '.' or '..' segments.";
        if (string.IsNullOrWhiteSpace(S3.Region)) return "Storage:S3:Region must be set.";
        if (string.IsNullOrEmpty(S3.AccessKey) != string.IsNullOrEmpty(S3.SecretKey)) return "Storage:S3:AccessKey and SecretKey are set together or not at all.";
        return null;
    }
}

public sealed class S3StorageOptions
{
    /// <summary>An S3-compatible endpoint (MinIO, Ceph, R2, s3rver…); empty means AWS itself, by <see cref="Region"/>.</summary>
    public string ServiceUrl { get; set; } = "";

    /// <summary>The same endpoint as clients reach it, when that differs from <see cref="ServiceUrl"/> (e.g. the
    /// services reach http://minio:9000 inside a compose network, clients https://files.example.com): presigned links
    /// are signed for this host, since the signature covers it.</summary>
    public string PublicUrl { get; set; } = "";

    public string Region { get; set; } = "us-east-1";

    public string Bucket { get; set; } = "";

    /// <summary>Put in front of every key, so that one bucket can hold several deployments' files.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Empty: the SDK's default chain (AWS_ACCESS_KEY_ID…, an instance or pod role). With temporary
    /// credentials a presigned link dies with the session token, which may be sooner than Storage:LinkTtlSeconds.</summary>
    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";

    /// <summary>bucket in the path (http://host/bucket/key), which S3-compatible servers expect, not in the host name.</summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>Job links are presigned S3 URLs (clients download from the store, not through the Api). Off when
    /// clients cannot reach the store: the Api's /files/ links then stream from it.</summary>
    public bool PresignLinks { get; set; } = true;

    /// <summary>Creates the bucket on first write if it does not exist (development and tests).</summary>
    public bool CreateBucket { get; set; }
}
