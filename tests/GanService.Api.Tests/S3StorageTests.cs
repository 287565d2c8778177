using System.Net;
using GanService.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GanService.Api.Tests;

/// <summary>A whole service whose blob store is S3 (s3rver on loopback), links presigned, bucket made on first use.</summary>
public sealed class S3Host : ServiceHost
{
    public const string Bucket = "ganservice-test";
    public const string Prefix = "deploy-a";

    public S3rver S3 { get; private set; } = null!;

    protected override async Task BeforeStartAsync() => S3 = await S3rver.StartAsync(Path.Combine(Scratch, "s3"));

    protected override IReadOnlyDictionary<string, string> ExtraEnv => new Dictionary<string, string>
    {
        ["Storage__Provider"] = "s3",
        ["Storage__S3__ServiceUrl"] = S3.Url,
        ["Storage__S3__Bucket"] = Bucket,
        ["Storage__S3__Prefix"] = Prefix,
        ["Storage__S3__AccessKey"] = S3rver.AccessKey,
        ["Storage__S3__SecretKey"] = S3rver.SecretKey,
        ["Storage__S3__CreateBucket"] = "true",
    };

    /// <summary>The store as the service's processes configure it, for reading back what they wrote.</summary>
    public S3BlobStore Store(bool presign = true, string publicUrl = "") => new(Options.Create(new StorageOptions
    {
        Provider = "s3", SigningKey = SigningKey,
        S3 = new S3StorageOptions
        {
            ServiceUrl = S3.Url, Bucket = Bucket, Prefix = Prefix, AccessKey = S3rver.AccessKey, SecretKey = S3rver.SecretKey,
            CreateBucket = true, PresignLinks = presign, PublicUrl = publicUrl,
        },
    }), NullLogger<S3BlobStore>.Instance);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (S3 is not null) await S3.DisposeAsync();
    }
}

public sealed class S3StorageTests(S3Host host) : IClassFixture<S3Host>
{
    private static readonly HttpClient Plain = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Blobs_of_every_size_round_trip_byte_for_byte_through_the_sdk_presigned_links_and_the_servers_disk()
    {
        using var store = host.Store();
        var rng = new Random(7);
        foreach (int size in new[] { 0, 1, 4095, 65_537, 3 * 1024 * 1024 + 5 })
        {
            var bytes = new byte[size];
            rng.NextBytes(bytes);
            var key = $"jobs/{Guid.NewGuid():N}/{size}.bin";
            await store.PutAsync(key, bytes, "application/octet-stream", CancellationToken.None);

            // What the server stored (s3rver keeps each object as a file): no aws-chunked framing, no trailer.
            var onDisk = Path.Combine(host.S3.Directory, S3Host.Bucket, S3Host.Prefix, key + "._S3rver_object");
            Assert.True(File.Exists(onDisk), $"no object file at {onDisk}:\n" + string.Join("\n", Directory.GetFiles(host.S3.Directory, "*", SearchOption.AllDirectories).Take(10)));
            Assert.Equal(Http.Sha(bytes), Http.Sha(await File.ReadAllBytesAsync(onDisk)));

            await using (var blob = await store.OpenAsync(key, CancellationToken.None))
            {
                Assert.NotNull(blob);
                Assert.Equal(size, blob.Length);
                using var read = new MemoryStream();
                await blob.Content.CopyToAsync(read);
                Assert.Equal(Http.Sha(bytes), Http.Sha(read.ToArray()));
            }

            var link = store.DirectLink(key, DateTimeOffset.UtcNow.AddMinutes(5))!;
            Assert.StartsWith(host.S3.Url + "/", link);
            Assert.Contains("X-Amz-Signature=", link);
            Assert.Equal(Http.Sha(bytes), Http.Sha(await Plain.GetByteArrayAsync(link)));
        }
    }

    [Fact]
    public async Task Presigned_links_are_refused_once_expired_and_deleted_blobs_are_gone()
    {
        using var store = host.Store();
        var key = $"jobs/{Guid.NewGuid():N}/0.png";
        await store.PutAsync(key, new byte[] { 1, 2, 3 }, "image/png", CancellationToken.None);

        var link = store.DirectLink(key, DateTimeOffset.UtcNow.AddMinutes(5))!;
        using (var ok = await Plain.GetAsync(link)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        // s3rver enforces a presigned link's expiry but does not check V4 signatures ("unimplemented" in its source), so
        // a forged signature cannot be shown refused here; S3, MinIO and Ceph check it.
        var expired = store.DirectLink(key, DateTimeOffset.UtcNow.AddSeconds(1))!;
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using (var late = await Plain.GetAsync(expired)) Assert.Equal(HttpStatusCode.Forbidden, late.StatusCode);

        await store.DeleteAsync(key, CancellationToken.None);
        Assert.Null(await store.OpenAsync(key, CancellationToken.None));
        using (var gone = await Plain.GetAsync(store.DirectLink(key, DateTimeOffset.UtcNow.AddMinutes(5))))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await store.DeleteAsync(key, CancellationToken.None);   // twice: not an error
        using var unsigned = host.Store(presign: false);
        Assert.Null(unsigned.DirectLink(key, DateTimeOffset.UtcNow.AddMinutes(5)));
        using var behindProxy = host.Store(publicUrl: "https://files.example.test");
        Assert.StartsWith($"https://files.example.test/{S3Host.Bucket}/{S3Host.Prefix}/{key}?", behindProxy.DirectLink(key, DateTimeOffset.UtcNow.AddMinutes(5)));
        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenAsync("jobs/../../etc/passwd", CancellationToken.None));
    }

    [Fact]
    public async Task A_generation_stores_its_images_in_the_bucket_and_links_them_presigned_and_the_files_endpoint_streams_the_same_bytes()
    {
        var job = await host.Client.GenerateAsync("""{"count":2,"seed":4242}""");
        var outputs = job.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(2, outputs.Length);
        using var store = host.Store();
        var signer = new UrlSigner(Options.Create(new StorageOptions { SigningKey = ServiceHost.SigningKey }), TimeProvider.System);
        var id = Guid.Parse(job.GetProperty("id").GetString()!);
        for (int i = 0; i < outputs.Length; i++)
        {
            var url = outputs[i].GetProperty("url").GetString()!;
            Assert.StartsWith($"{host.S3.Url}/{S3Host.Bucket}/{S3Host.Prefix}/jobs/{id:N}/{i}.png?", url);
            var presigned = await Plain.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, presigned.StatusCode);
            var bytes = await presigned.Content.ReadAsByteArrayAsync();
            var (w, h) = Http.PngSize(bytes);
            Assert.Equal((outputs[i].GetProperty("width").GetInt32(), outputs[i].GetProperty("height").GetInt32()), (w, h));

            // The Api's own signed link for the key (what it issues with Storage:S3:PresignLinks off) streams the
            // object from the bucket: same bytes, with its length and ETag.
            using var viaApi = await host.Client.GetAsync(signer.Sign(JobBlobs.Key(id, $"{i}.png")));
            Assert.Equal(HttpStatusCode.OK, viaApi.StatusCode);
            Assert.Equal("image/png", viaApi.Content.Headers.ContentType?.MediaType);
            Assert.Equal(bytes.Length, viaApi.Content.Headers.ContentLength);
            Assert.NotNull(viaApi.Headers.ETag);
            Assert.Equal(Http.Sha(bytes), Http.Sha(await viaApi.Content.ReadAsByteArrayAsync()));
        }
        Assert.False(Directory.Exists(Path.Combine(host.Scratch, "blobs", "jobs")), "an S3-backed worker wrote job files to the local store");
    }
}
