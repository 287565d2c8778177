using GanService.Models.Data;
using GanService.Models.ProGan;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

public sealed class ProGanTrainerTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("ganservice-progan-").FullName;

    public ProGanTrainerTests() => set_num_threads(1);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    // 32×32 grey (Fashion-MNIST), small widths: level 0..3. 0.064 kimg per phase = 4 batches of 16.
    private static readonly ProGanConfig Config = new(FinalResolution: 32, Channels: 1, LatentDim: 16, FmapBase: 64, FmapMax: 16);
    private static readonly ProGanTrainOptions Options = new(new ProGanSchedule(StableKimg: 0.064, FadeKimg: 0.064), BatchSize: 16, Seed: 7);

    private static Tensor Images() => FashionMnist.Load(TestData.FashionMnistDirectory, train: true, limit: 128).Images;

    [Fact]
    public void Schedule_grows_from_4x4_with_fade_ins_and_the_direct_baseline_stays_at_the_top()
    {
        var s = new ProGanSchedule(StableKimg: 10, FadeKimg: 20);
        Assert.Equal(1000L * (10 * 4 + 20 * 3), s.TotalImages(3));
        Assert.Equal((0, 1.0), s.At(0, 3));
        Assert.Equal((0, 1.0), s.At(9_999, 3));
        Assert.Equal((1, 0.0), s.At(10_000, 3));
        Assert.Equal((1, 0.5), s.At(20_000, 3));
        Assert.Equal((1, 1.0), s.At(30_000, 3));
        Assert.Equal((2, 0.25), s.At(45_000, 3));
        Assert.Equal((3, 1.0), s.At(1_000_000, 3));
        Assert.Equal((3, 1.0), (s with { Progressive = false }).At(0, 3));
        // A longer last phase lengthens only the total: the growth is the same.
        var longer = s with { FinalKimg = 100 };
        Assert.Equal(1000L * (10 * 3 + 100 + 20 * 3), longer.TotalImages(3));
        Assert.Equal(s.At(45_000, 3), longer.At(45_000, 3));
        Assert.Equal((3, 1.0), longer.At(150_000, 3));
    }

    [Fact]
    public void Training_walks_the_schedule_and_moves_g_d_and_the_ema_generator()
    {
        using var images = Images();
        using var trainer = new ProGanTrainer(Config, Options);
        using var emaBefore = trainer.Ema.state_dict()["to_rgb.0.weight"].clone();
        var seen = new List<ProGanProgress>();
        trainer.Train(images, new Collect(seen.Add));

        Assert.True(trainer.Done);
        Assert.Equal(trainer.TotalImages, trainer.ImagesShown);
        Assert.Equal([0, 1, 2, 3], seen.Select(p => p.Level).Distinct());
        Assert.Contains(seen, p => p.Alpha is > 0 and < 1);
        Assert.All(seen, p => Assert.True(double.IsFinite(p.LossD) && double.IsFinite(p.LossG) && double.IsFinite(p.Penalty), $"{p}"));
        Assert.False(Bitwise.Equal(trainer.Ema.state_dict()["to_rgb.0.weight"], emaBefore), "the EMA generator did not move");
    }

    [Fact]
    public void A_step_with_a_non_finite_gradient_is_skipped_and_leaves_the_generators_alone()
    {
        using var images = Images();
        using var trainer = new ProGanTrainer(Config, Options);
        trainer.Train(images, maxSteps: 2);
        var gBefore = trainer.G.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var emaBefore = trainer.Ema.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        // What libtorch's CPU conv backward now and then does under the double backward: a NaN reaches a gradient.
        using (no_grad()) trainer.D.named_parameters().First(p => p.name == "output.bias").parameter.fill_(float.NaN);

        trainer.Train(images, maxSteps: 1);

        Assert.Equal(1, trainer.SkippedSteps);
        Assert.Equal(3, trainer.Step);
        foreach (var (name, before) in gBefore)
            Assert.True(Bitwise.Equal(trainer.G.state_dict()[name], before), $"G {name} moved on a skipped step");
        foreach (var (name, before) in emaBefore)
            Assert.True(Bitwise.Equal(trainer.Ema.state_dict()[name], before), $"EMA {name} moved on a skipped step");
        trainer.SaveCheckpoint(directory);
        using var resumed = ProGanTrainer.Resume(directory);
        Assert.Equal(1, resumed.SkippedSteps);
        foreach (var t in gBefore.Values.Concat(emaBefore.Values)) t.Dispose();
    }

    [Fact]
    public void Resuming_from_a_checkpoint_continues_exactly_as_an_uninterrupted_run()
    {
        using var images = Images();
        using var straight = new ProGanTrainer(Config, Options);
        straight.Train(images, maxSteps: 10);

        using (var first = new ProGanTrainer(Config, Options))
        {
            first.Train(images, maxSteps: 6); // into level 1's fade-in
            first.SaveCheckpoint(directory);
            first.Train(images, maxSteps: 2); // work after the checkpoint is lost, as if the process were killed
        }
        using var resumed = ProGanTrainer.Resume(directory);
        Assert.Equal(6, resumed.Step);
        Assert.Equal(6 * 16, resumed.ImagesShown);
        resumed.Train(images, maxSteps: 4);

        Assert.Equal(straight.Step, resumed.Step);
        foreach (var (name, expected) in straight.G.state_dict())
            Assert.True(Bitwise.Equal(resumed.G.state_dict()[name], expected), $"G {name} differs after resume");
        foreach (var (name, expected) in straight.D.state_dict())
            Assert.True(Bitwise.Equal(resumed.D.state_dict()[name], expected), $"D {name} differs after resume");
        foreach (var (name, expected) in straight.Ema.state_dict())
            Assert.True(Bitwise.Equal(resumed.Ema.state_dict()[name], expected), $"EMA {name} differs after resume");
    }

    [Fact]
    public void Checkpoints_keep_the_two_newest_and_latest_points_at_the_last_complete_one()
    {
        using var images = Images();
        using var trainer = new ProGanTrainer(Config, Options);
        for (int i = 0; i < 3; i++)
        {
            trainer.Train(images, maxSteps: 1);
            trainer.SaveCheckpoint(directory);
        }
        Assert.Equal(["step-000000002", "step-000000003"], Directory.GetDirectories(directory).Select(Path.GetFileName).Order());
        Assert.Equal(Path.Combine(directory, "step-000000003"), ProGanTrainer.LatestCheckpoint(directory));

        // A fresh run into the same folder: its step 0 is the newest though its name sorts first, and the old run's
        // higher steps go once the fresh run has two of its own.
        using var fresh = new ProGanTrainer(Config, Options);
        fresh.SaveCheckpoint(directory);
        Assert.Equal(Path.Combine(directory, "step-000000000"), ProGanTrainer.LatestCheckpoint(directory));
        Assert.True(File.Exists(Path.Combine(directory, "step-000000000", "state.json")));
        fresh.Train(images, maxSteps: 1);
        fresh.SaveCheckpoint(directory);
        Assert.Equal(["step-000000000", "step-000000001"], Directory.GetDirectories(directory).Select(Path.GetFileName).Order());
    }

    private sealed class Collect(Action<ProGanProgress> add) : IProgress<ProGanProgress>
    {
        public void Report(ProGanProgress value) => add(value);
    }
}
