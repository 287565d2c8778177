namespace GanService.Api.Tests;

/// <summary>
/// A host of its own whose worker waits up to 300 ms for requests to join a batch (capped at 16 images), with
/// enough Hangfire threads that concurrent jobs reach the device thread together.
/// </summary>
public sealed class BatchingHost : ServiceHost
{
    public const int MaxBatch = 16;

    protected override IReadOnlyDictionary<string, string> ExtraEnv => new Dictionary<string, string>
    {
        ["Worker__Concurrency"] = "32",
        ["Worker__Batching__MaxBatchSize"] = MaxBatch.ToString(),
        ["Worker__Batching__MaxQueueDelayMs"] = "300",
    };
}

[CollectionDefinition(Name)]
public sealed class BatchingCollection : ICollectionFixture<BatchingHost>
{
    public const string Name = "batching";
}

[Collection(BatchingCollection.Name)]
public sealed class BatchingTests(BatchingHost host)
{
    private readonly HttpClient client = host.Client;

    [Fact]
    public async Task Concurrent_jobs_share_forward_passes_and_each_image_is_the_one_it_gets_alone()
    {
        // Twelve jobs of 1 or 3 images with mixed truncation and labels: all compatible with one batch.
        var bodies = Enumerable.Range(0, 12).Select(i =>
            $$"""{"count":{{(i % 4 == 0 ? 3 : 1)}},"seed":{{7000 + 10 * i}},"truncation":{{(i % 2 == 0 ? "0.7" : "1")}}{{(i % 3 == 0 ? ",\"label\":\"coat\"" : "")}}}""").ToList();
        var together = await Task.WhenAll(bodies.Select(b => client.GenerateAsync(b)));

        var batchSizes = together.Select(j => j.GetProperty("metrics").GetProperty("batchImages").GetInt32()).ToList();
        Assert.All(together, j => Assert.Equal("succeeded", j.GetProperty("status").GetString()));
        Assert.All(batchSizes, b => Assert.InRange(b, 1, BatchingHost.MaxBatch));
        Assert.True(batchSizes.Max() > 3, $"no forward pass served more than one job: batch sizes {string.Join(", ", batchSizes)}");

        for (int i = 0; i < bodies.Count; i++)
        {
            var alone = await client.GenerateAsync(bodies[i]);
            int aloneBatch = alone.GetProperty("metrics").GetProperty("batchImages").GetInt32();
            Assert.Equal(alone.GetProperty("outputs").GetArrayLength(), aloneBatch);
            for (int k = 0; k < aloneBatch; k++)
            {
                var a = together[i].GetProperty("outputs")[k];
                var b = alone.GetProperty("outputs")[k];
                Assert.Equal(b.GetProperty("seed").GetInt64(), a.GetProperty("seed").GetInt64());
                Assert.Equal(b.GetProperty("label").GetString(), a.GetProperty("label").GetString());
                Assert.True(Http.Sha(await client.DownloadAsync(a)) == Http.Sha(await client.DownloadAsync(b)),
                    $"job {i} image {k} differs between a batch of {batchSizes[i]} images and alone");
            }
        }
    }

    [Fact]
    public async Task A_job_larger_than_the_batch_limit_runs_alone_in_one_pass()
    {
        var job = await client.GenerateAsync($$"""{"count":{{BatchingHost.MaxBatch + 4}},"seed":42}""");
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(BatchingHost.MaxBatch + 4, job.GetProperty("metrics").GetProperty("batchImages").GetInt32());
        Assert.Equal(BatchingHost.MaxBatch + 4, job.GetProperty("outputs").GetArrayLength());
    }
}
