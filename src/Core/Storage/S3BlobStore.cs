using System.Net;
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
    private readonly S3StorageOptions options;
    private readonly Protocol protocol;
    private readonly ILogger<S3BlobStore> log;
    private readonly SemaphoreSlim bucketCheck = new(1, 1);
    private volatile bool bucketReady;

    public S3BlobStore(IOptions<StorageOptions> storage, ILogger<S3BlobStore> log)
    {
        options = storage.Value.S3;
        this.log = log;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = TimeSpan.FromSeconds(30),
            MaxErrorRetry = 3,
        };
        if (options.ServiceUrl.Length > 0)
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        protocol = options.ServiceUrl.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS;
        client = options.AccessKey.Length > 0
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
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // S3 answers 204 for a missing key; some compatible servers answer 404. Either way it is gone.
        }
    }

    public async Task<Blob?> OpenAsync(string key, CancellationToken ct)
    {
        try
        {
            var response = await client.GetObjectAsync(options.Bucket, ObjectKey(key), ct);
            return new Blob(response.ResponseStream, response.ContentLength, response.LastModified ?? DateTimeOffset.UnixEpoch.UtcDateTime, response.ETag);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public string? DirectLink(string key, DateTimeOffset expires) => !options.PresignLinks ? null : client.GetPreSignedURL(new GetPreSignedUrlRequest
    {
        BucketName = options.Bucket, Key = ObjectKey(key), Verb = HttpVerb.GET, Expires = expires.UtcDateTime, Protocol = protocol,
    });

    private string ObjectKey(string key) => options.Prefix.Length == 0 ? key : options.Prefix.TrimEnd('/') + "/" + key;

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
        client.Dispose();
        bucketCheck.Dispose();
    }
}
