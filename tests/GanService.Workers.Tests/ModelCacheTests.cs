using static TorchSharp.torch;

namespace GanService.Workers.Tests;

public sealed class ModelCacheTests : IDisposable
{
    private readonly TempModels models = new();

    public ModelCacheTests() => set_num_threads(1);

    public void Dispose() => models.Dispose();

    [Fact]
    public void Loads_once_then_hits()
    {
        var a = models.Create("a", 1);
        using var cache = TempModels.Cache(TempModels.Options());
        var first = cache.Generator(a, "dcgan", CPU);
        var second = cache.Generator(a, "dcgan", CPU);
        Assert.Same(first, second);
        Assert.Equal((1L, 1L, 0L, 1), cache.Stats);
        Assert.Equal([("a", a.Version)], cache.Loaded);
    }

    [Fact]
    public void Over_budget_the_least_recently_used_model_is_unloaded()
    {
        var a = models.Create("a", 1);
        var b = models.Create("b", 2);
        var c = models.Create("c", 3);
        // One Fashion32 generator is about 1.6 MB of parameters and buffers: a 4 MB budget holds two.
        using var cache = TempModels.Cache(TempModels.Options(o => o.ModelCacheMegabytes = 4));
        cache.Generator(a, "dcgan", CPU);
        cache.Generator(b, "dcgan", CPU);
        cache.Generator(a, "dcgan", CPU); // a is now more recent than b
        cache.Generator(c, "dcgan", CPU); // over budget: b goes

        Assert.Equal(["a", "c"], cache.Loaded.Select(l => l.Model).Order());
        Assert.True(cache.LoadedBytes <= cache.BudgetBytes, $"{cache.LoadedBytes} bytes loaded over a {cache.BudgetBytes} budget");
        cache.Generator(b, "dcgan", CPU); // reloaded, and a (now least recent) goes
        Assert.Equal(["b", "c"], cache.Loaded.Select(l => l.Model).Order());
        Assert.Equal((1L, 4L, 2L, 2), cache.Stats);
    }

    [Fact]
    public void Weights_changed_on_disk_are_refused()
    {
        var a = models.Create("a", 1);
        File.WriteAllBytes(a.WeightsPath, [.. File.ReadAllBytes(a.WeightsPath).Reverse()]);
        using var cache = TempModels.Cache(TempModels.Options());
        var e = Assert.Throws<Jobs.JobInputException>(() => cache.Generator(a, "dcgan", CPU));
        Assert.Contains("changed on disk", e.Message);
    }
}
