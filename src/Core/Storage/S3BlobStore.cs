using System.Runtime.InteropServices;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GanService.Core.Storage;

/// <summary>
/// Blobs in an S3-compatible bucket (Storage:S3). Links are presigned GET URLs unless Storage:S3:PresignLinks is off.
/// Uploads are sent whole with a plain Content-Length and no aws-chunked framing or trailing checksum: S3-compatible
/// servers that do not speak the SDK's streaming signature (s3rver among them) otherwise store the framing as content.
/// </summary>
public sealed class S3BlobStore : IBlobStore, IDisposable
{
    private readonly AmazonS3Client client;
    private readonly AmazonS3Client presigner;
    private readonly S3StorageOptions options;
    private readonly Protocol protocol;
    private readonly ILogger<S3BlobStore> log;
    private readonly SemaphoreSlim bucketCheck = new(1, 1);
    private volatile bool bucketReady;

    public S3BlobStore(IOptions<StorageOptions> storage, ILogger<S3BlobStore> log)
    {
        options = storage.Value.S3;
        this.log = log;
        client = NewClient(options.ServiceUrl);
        // Presigning is a local computation; its URL names the host clients use.
        presigner = options.PublicUrl.Length > 0 ? NewClient(options.PublicUrl) : client;
        protocol = (options.PublicUrl.Length > 0 ? options.PublicUrl : options.ServiceUrl).StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            ? Protocol.HTTP : Protocol.HTTPS;
    }

    private AmazonS3Client NewClient(string serviceUrl)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = TimeSpan.FromSeconds(30),
            MaxErrorRetry = 3,
        };
        if (serviceUrl.Length > 0)
        {
            config.ServiceURL = serviceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        return options.AccessKey.Length > 0
            ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new AmazonS3Client(config);
    }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken ct)
    {
        await EnsureBucketAsync(ct);
        using var body = MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);
        await client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = options.Bucket, Key = ObjectKey(key), InputStream = body, ContentType = contentType,
            UseChunkEncoding = false, AutoCloseStream = false,
        }, ct);
    }

    public async Task DeleteAsync(string key, CancellationToken ct)
    {
        try
        {
            await client.DeleteObjectAsync(options.Bucket, ObjectKey(key), ct);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey")
        {
            // S3 answers 204 for a missing key; some compatible servers answer 404. Either way it is gone. (Not
            // NoSuchBucket: a misconfigured bucket must not let the retention sweep mark jobs expired.)
        }
    }

    public async Task<Blob?> OpenAsync(string key, CancellationToken ct)
    {
        try
        {
            var response = await client.GetObjectAsync(options.Bucket, ObjectKey(key), ct);
            // Disposing the response stream returns the connection. Servers that omit the ETag get one made from
            // what identifies the object.
            var etag = response.ETag is { Length: > 0 } e ? (e.StartsWith('"') ? e : $"\"{e}\"") : $"\"{response.ContentLength:x}-{response.LastModified?.Ticks:x}\"";
            return new Blob(response.ResponseStream, response.ContentLength, response.LastModified ?? DateTime.UnixEpoch, etag);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey")
        {
            // Only a missing key. Without s3:ListBucket, AWS answers a missing key with 403 AccessDenied: that, like
            // NoSuchBucket, is a configuration error and surfaces as one.
            return null;
        }
    }

    public string? DirectLink(string key, DateTimeOffset expires) => !options.PresignLinks ? null : presigner.GetPreSignedURL(new GetPreSignedUrlRequest
    {
        BucketName = options.Bucket, Key = ObjectKey(key), Verb = HttpVerb.GET, Expires = expires.UtcDateTime, Protocol = protocol,
    });

    /// <summary>The object's key in the bucket. Keys are ours (jobs/{id}/{file}); one with empty, '.' or '..' segments
    /// is refused as the file store refuses a key that leaves its folder.</summary>
    private string ObjectKey(string key)
    {
        if (key.Split('/').Any(s => s is "" or "." or "..")) throw new ArgumentException($"Blob key '{key}' is not a plain relative path.", nameof(key));
        return options.Prefix.Length == 0 ? key : options.Prefix.TrimEnd('/') + "/" + key;
    }

    private async Task EnsureBucketAsync(CancellationToken ct)
    {
        if (bucketReady || !options.CreateBucket) return;
        await bucketCheck.WaitAsync(ct);
        try
        {
            if (bucketReady) return;
            try
            {
                await client.PutBucketAsync(options.Bucket, ct);
                log.LogInformation("Created bucket {Bucket}", options.Bucket);
            }
            catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
            {
            }
            bucketReady = true;
        }
        finally
        {
            bucketCheck.Release();
        }
    }

    public void Dispose()
    {
        if (presigner != client) presigner.Dispose();
        client.Dispose();
        bucketCheck.Dispose();
    }
}
