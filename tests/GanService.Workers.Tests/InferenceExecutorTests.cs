using GanService.Workers.Inference;
using static TorchSharp.torch;

namespace GanService.Workers.Tests;

public sealed class InferenceExecutorTests : IDisposable
{
    private readonly TempModels models = new();

    public InferenceExecutorTests() => set_num_threads(1);

    public void Dispose() => models.Dispose();

    private static SampleRequest Request(long seed, int count = 1, double truncation = 1.0) =>
        new([.. Enumerable.Range(0, count).Select(i => seed + i)], [.. Enumerable.Range(0, count).Select(i => (int)((seed + i) % 10))], truncation);

    [Fact]
    public async Task Waiting_requests_for_one_version_coalesce_up_to_the_batch_size_and_versions_never_mix()
    {
        var a = models.Create("a", 1);
        var b = models.Create("b", 2);
        var options = TempModels.Options(o => { o.Batching.MaxBatchSize = 4; o.Batching.MaxQueueDelayMs = 300; });
        using var cache = TempModels.Cache(options);
        using var executor = TempModels.Executor(options, cache);

        var requestsA = Enumerable.Range(0, 6).Select(i => Request(100 + i, truncation: i % 2 == 0 ? 1.0 : 0.5)).ToList();
        var requestsB = Enumerable.Range(0, 2).Select(i => Request(200 + i)).ToList();
        var tasksA = requestsA.Select(r => executor.SampleAsync(a, "dcgan", r)).ToList();
        var tasksB = requestsB.Select(r => executor.SampleAsync(b, "dcgan", r)).ToList();
        var resultsA = await Task.WhenAll(tasksA);
        var resultsB = await Task.WhenAll(tasksB);

        // Six single-image requests for a with a limit of 4: a batch of 4 then one of 2. b's two run together, apart.
        Assert.Equal([4, 4, 4, 4, 2, 2], resultsA.Select(r => r.BatchImages));
        Assert.Equal([2, 2], resultsB.Select(r => r.BatchImages));

        // Each image is what the same request gives alone, whatever it was batched with.
        var ga = cache.Generator(a, "dcgan", CPU);
        var gb = cache.Generator(b, "dcgan", CPU);
        for (int i = 0; i < requestsA.Count; i++)
            Assert.Equal(ImageSampler.Sample(ga, CPU, [requestsA[i]])[0], resultsA[i].Pixels[0]);
        for (int i = 0; i < requestsB.Count; i++)
            Assert.Equal(ImageSampler.Sample(gb, CPU, [requestsB[i]])[0], resultsB[i].Pixels[0]);
        // And the two models really are different models.
        Assert.NotEqual(ImageSampler.Sample(ga, CPU, [requestsB[0]])[0], resultsB[0].Pixels[0]);
    }

    [Fact]
    public async Task An_executor_trims_the_native_heap_once_after_work_when_idle_and_never_while_only_idle()
    {
        var a = models.Create("a", 1);
        var options = TempModels.Options(o => o.TrimNativeHeapIdleSeconds = 0.2);
        using var cache = TempModels.Cache(options);
        using var executor = TempModels.Executor(options, cache);
        await Task.Delay(600);
        Assert.Equal(0, executor.NativeHeapTrims); // nothing ran yet: nothing to give back

        for (int round = 1; round <= 2; round++)
        {
            await executor.SampleAsync(a, "dcgan", Request(round));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (executor.NativeHeapTrims < round && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.Equal(round, executor.NativeHeapTrims);
            // Idle again: no further trim until more work has run.
            await Task.Delay(600);
            Assert.Equal(round, executor.NativeHeapTrims);
        }

        var off = TempModels.Options(o => o.TrimNativeHeapIdleSeconds = 0);
        using var cacheOff = TempModels.Cache(off);
        using var executorOff = TempModels.Executor(off, cacheOff);
        await executorOff.SampleAsync(a, "dcgan", Request(3));
        await Task.Delay(600);
        Assert.Equal(0, executorOff.NativeHeapTrims);
    }

    [Fact]
    public async Task Multi_image_requests_get_their_own_slice_in_order()
    {
        var a = models.Create("a", 1);
        var options = TempModels.Options(o => { o.Batching.MaxBatchSize = 16; o.Batching.MaxQueueDelayMs = 300; });
        using var cache = TempModels.Cache(options);
        using var executor = TempModels.Executor(options, cache);

        var first = executor.SampleAsync(a, "dcgan", Request(10, count: 3));
        var second = executor.SampleAsync(a, "dcgan", Request(50, count: 5));
        var (r1, r2) = (await first, await second);

        Assert.Equal((3, 8, 2), (r1.Pixels.Length, r1.BatchImages, r1.BatchRequests));
        Assert.Equal((5, 8), (r2.Pixels.Length, r2.BatchImages));
        var alone = ImageSampler.Sample(cache.Generator(a, "dcgan", CPU), CPU, [Request(50, count: 5)]);
        for (int i = 0; i < 5; i++) Assert.Equal(alone[i], r2.Pixels[i]);
    }

    [Fact]
    public async Task Batching_off_runs_every_request_alone_and_a_canceled_request_is_dropped()
    {
        var a = models.Create("a", 1);
        var options = TempModels.Options(o => o.Batching.Enabled = false);
        using var cache = TempModels.Cache(options);
        using var executor = TempModels.Executor(options, cache);
        using var canceled = new CancellationTokenSource();
        canceled.Cancel();

        var dropped = executor.SampleAsync(a, "dcgan", Request(1), canceled.Token);
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => executor.SampleAsync(a, "dcgan", Request(10 + i))));

        Assert.All(results, r => Assert.Equal(1, r.BatchImages));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped);
    }
}

public sealed class ProGanServingTests : IDisposable
{
    private readonly TempModels models = new();

    public ProGanServingTests() => set_num_threads(1);

    public void Dispose() => models.Dispose();

    [Fact]
    public async Task A_progan_version_is_served_in_batches_with_each_image_as_it_is_alone()
    {
        var p = models.CreateProGan("emoji-test", 3);
        var options = TempModels.Options(o => { o.Batching.MaxBatchSize = 8; o.Batching.MaxQueueDelayMs = 300; });
        using var cache = TempModels.Cache(options);
        using var executor = TempModels.Executor(options, cache);

        var requests = Enumerable.Range(0, 4).Select(i => new SampleRequest([100L + 2 * i, 101L + 2 * i], null)).ToList();
        var results = await Task.WhenAll(requests.Select(r => executor.SampleAsync(p, "progan", r)));

        Assert.All(results, r => Assert.Equal((8, 32, 3), (r.BatchImages, r.Size, r.Channels)));
        Assert.All(results, r => Assert.All(r.Pixels, px => Assert.Equal(32 * 32 * 3, px.Length)));
        var g = cache.Generator(p, "progan", CPU);
        for (int i = 0; i < requests.Count; i++)
        {
            var alone = ImageSampler.Sample(g, CPU, [new SampleRequest([requests[i].Seeds[1]], null)]);
            Assert.Equal(alone[0], results[i].Pixels[1]);
        }
        // Different seeds, different images; labels are refused by an unconditional family.
        Assert.NotEqual(results[0].Pixels[0], results[0].Pixels[1]);
        await Assert.ThrowsAsync<ArgumentException>(() => executor.SampleAsync(p, "progan", new SampleRequest([1L], [0])));
    }

    [Fact]
    public void An_unknown_family_is_refused_by_name()
    {
        var p = models.CreateProGan("x", 1);
        using var cache = TempModels.Cache(TempModels.Options());
        var e = Assert.Throws<NotSupportedException>(() => cache.Generator(p, "stylegan9", CPU));
        Assert.Contains("stylegan9", e.Message);
    }
}
