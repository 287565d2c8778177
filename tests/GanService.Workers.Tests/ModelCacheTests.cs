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

    [Fact]
    public void A_stackgan_bundle_is_warmed_by_its_family_and_draws_what_its_stages_hold()
    {
        var one = models.CreateStackGan("t2i-one", 4, withStageTwo: false);
        var two = models.CreateStackGan("t2i-two", 5, withStageTwo: true);
        using var cache = TempModels.Cache(TempModels.Options());
        cache.Warm(one, "stackgan", CPU);
        cache.Warm(two, "stackgan", CPU);
        Assert.Equal((0L, 2L, 0L, 2), cache.Stats);
        var m1 = cache.StackGan(one, CPU);
        var m2 = cache.StackGan(two, CPU);
        Assert.Equal((2L, 2L, 0L, 2), cache.Stats);
        using (NewDisposeScope())
        {
            var (text, reading) = m2.Embed("Red apple zzzqx");
            Assert.True(reading.PromptTokens >= 3 && reading.UnknownTokens >= 1 && !reading.Truncated, reading.ToString());
            var (low, high) = m2.Draw(text, [1, 2]);
            Assert.Equal([2L, 3, 64, 64], low.shape);
            Assert.Equal([2L, 3, 128, 128], high!.shape);
            Assert.Null(m1.Draw(m1.Embed("red apple").Text, [1]).StageTwo);
        }
        // A version is what its family says: the same bundle asked for as an image generator is refused, not misread.
        var e = Assert.Throws<Jobs.JobInputException>(() => cache.Caae(one, CPU));
        Assert.Contains("is not a", e.Message);
    }
}
