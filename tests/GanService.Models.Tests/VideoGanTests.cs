using GanService.Models.Data;
using GanService.Models.Dcgan;
using GanService.Models.VideoGan;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

public sealed class VideoGanTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "vgan-tests-" + Guid.NewGuid().ToString("N")[..8]);

    // One libtorch thread: the exact-resume test compares weights bit for bit, and with the thread count another test
    // class left behind (2) a fresh-clone CI run saw D's BatchNorm running mean differ after resuming.
    public VideoGanTests() => set_num_threads(1);

    // Widths are multiples of 16: with 8 channels, fresh-clone CI runs (parallel test classes, never alone) twice saw
    // D's BatchNorm running mean differ after resuming; libtorch 2.10's CPU convolutions off oneDNN's well-tested
    // shapes return NaN now and then (see StableConv2d), and NaN never equals itself.

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    private static readonly VideoGanConfig Tiny = new(Frames: 4, ImageSize: 16, Ngf: 16, Ndf: 16);

    [Fact]
    public void The_video_is_the_mask_blending_a_moving_foreground_over_a_static_background()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var g = new VideoGanGenerator(VideoGanConfig.Clips32);
        g.eval();
        using var parts = g.forward(randn([2, 100]));
        Assert.Equal([2L, 3, 16, 32, 32], parts.Video.shape);
        Assert.Equal([2L, 3, 32, 32], parts.Background.shape);
        Assert.Equal([2L, 1, 16, 32, 32], parts.Mask.shape);
        Assert.True(parts.Mask.min().item<float>() >= 0 && parts.Mask.max().item<float>() <= 1);
        var expected = parts.Mask * parts.Foreground + (1 - parts.Mask) * parts.Background.unsqueeze(2);
        Assert.True(parts.Video.allclose(expected, rtol: 0, atol: 1e-6));
        // The foreground stream varies over time even untrained; the background has no time axis at all.
        Assert.True(parts.Foreground.narrow(2, 0, 1).sub(parts.Foreground.narrow(2, 15, 1)).abs().max().item<float>() > 0);
    }

    [Fact]
    public void The_papers_shape_32_frames_of_64_pixels_builds_and_its_discriminator_judges_it()
    {
        using var scope = NewDisposeScope();
        var config = VideoGanConfig.Paper with { Ngf = 4, Ndf = 4 };
        using var g = new VideoGanGenerator(config);
        using var d = new VideoGanDiscriminator(config);
        using var parts = g.forward(randn([1, 100]));
        Assert.Equal([1L, 3, 32, 64, 64], parts.Video.shape);
        Assert.Equal([1L], d.forward(parts.Video).shape);
        Assert.Throws<ArgumentException>(() => new VideoGanConfig(Frames: 12, ImageSize: 64).Validate());
        Assert.Throws<ArgumentException>(() => new VideoGanConfig(Frames: 16, ImageSize: 48).Validate());
    }

    [Fact]
    public void A_few_training_steps_teach_the_discriminator_and_the_mask_term_shrinks_the_mask()
    {
        using var scope = NewDisposeScope();
        var data = Data();
        using var trainer = new VideoGanTrainer(Tiny with { MaskSparsity = 5 }, new VideoGanTrainOptions(BatchSize: 8, Seed: 2));
        var first = trainer.TrainStep(data.Clips(1, 8).Clips);
        VideoGanProgress last = first;
        for (int i = 1; i < 12; i++) last = trainer.TrainStep(data.Clips(1, 8, i * 8).Clips);
        Assert.Equal(12, trainer.Step);
        Assert.True(last.LossD < first.LossD, $"D loss {first.LossD:F3} → {last.LossD:F3}");
        Assert.True(last.MaskMean < first.MaskMean, $"mask mean {first.MaskMean:F3} → {last.MaskMean:F3} with a strong sparsity term");
    }

    [Fact]
    public void A_mask_start_bias_starts_training_with_small_masks_and_survives_resuming()
    {
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var z = Latents.ForSeeds([0, 1, 2, 3], 100);
        using var plain = new VideoGanTrainer(Tiny, new VideoGanTrainOptions(BatchSize: 4, Seed: 6));
        using var biased = new VideoGanTrainer(Tiny, new VideoGanTrainOptions(BatchSize: 4, Seed: 6, MaskInitBias: -2));
        plain.G.eval();
        biased.G.eval();
        using var plainParts = plain.G.forward(z);
        using var biasedParts = biased.G.forward(z);
        float plainMean = plainParts.Mask.mean().item<float>(), biasedMean = biasedParts.Mask.mean().item<float>();
        // sigmoid(−2) = 0.119; the weights' small random start moves the mean a little either way.
        Assert.InRange(biasedMean, 0.09f, 0.15f);
        Assert.InRange(plainMean, 0.35f, 0.65f);
        // The option is in the checkpoint's state, and a resumed run keeps the trained bias, not a fresh one.
        var checkpoints = Path.Combine(root, "bias-checkpoints");
        biased.SaveCheckpoint(checkpoints);
        using var resumed = VideoGanTrainer.Resume(checkpoints)!;
        Assert.Equal(-2, resumed.Options.MaskInitBias);
        SameState.AfterResuming("G", biased.G, resumed.G);
    }

    [Fact]
    public void The_R1_penalty_is_reported_on_its_steps_and_flattens_the_discriminator_around_real_clips()
    {
        using var scope = NewDisposeScope();
        var data = Data();
        var options = new VideoGanTrainOptions(BatchSize: 8, Seed: 4);
        using var plain = new VideoGanTrainer(Tiny, options);
        using var penalised = new VideoGanTrainer(Tiny, options with { R1 = 50, R1Every = 2 });
        for (int i = 0; i < 10; i++)
        {
            var clips = data.Clips(1, 8, i * 8).Clips;
            Assert.Null(plain.TrainStep(clips).RealGradientSquared);
            var p = penalised.TrainStep(clips);
            // Lazy: steps 2, 4, … compute it, the others do not.
            if (p.Step % 2 == 0) Assert.True(p.RealGradientSquared is > 0 and < float.PositiveInfinity, $"step {p.Step}: {p.RealGradientSquared}");
            else Assert.Null(p.RealGradientSquared);
        }
        var held = data.Clips(2, 8).Clips;
        double plainSlope = RealGradientSquared(plain.D, held), penalisedSlope = RealGradientSquared(penalised.D, held);
        // Measured 0.56× after these 10 steps; 0.8× leaves room for libtorch's thread-count noise.
        Assert.True(penalisedSlope < plainSlope * 0.8, $"E‖∇D(real)‖²: {penalisedSlope:G3} with R1 against {plainSlope:G3} without");
        Assert.Throws<ArgumentException>(() => new VideoGanTrainer(Tiny, options with { R1Every = 0 }));
    }

    private static double RealGradientSquared(VideoGanDiscriminator d, Tensor clips)
    {
        d.train();
        var x = clips.detach().requires_grad_(true);
        var grad = autograd.grad([d.forward(x).sum()], [x])[0];
        return grad.square().sum([1, 2, 3, 4]).mean().item<float>();
    }

    [Fact]
    public void Training_resumed_from_a_checkpoint_continues_exactly()
    {
        using var scope = NewDisposeScope();
        var data = Data();
        // With the lazy R1 penalty on, so step 4 (after the resume) computes it: the schedule follows the step number.
        var options = new VideoGanTrainOptions(BatchSize: 4, Seed: 5, R1: 1, R1Every: 2);
        var checkpoints = Path.Combine(root, "checkpoints");
        Assert.Null(VideoGanTrainer.Resume(checkpoints));
        using var straight = new VideoGanTrainer(Tiny, options);
        for (int i = 0; i < 2; i++) straight.TrainStep(data.Clips(1, 4, i * 4).Clips);
        straight.SaveCheckpoint(checkpoints);
        for (int i = 2; i < 4; i++) straight.TrainStep(data.Clips(1, 4, i * 4).Clips);
        using var resumed = VideoGanTrainer.Resume(checkpoints)!;
        Assert.Equal(2, resumed.Step);
        for (int i = 2; i < 4; i++) resumed.TrainStep(data.Clips(1, 4, i * 4).Clips);
        SameState.AfterResuming("G", straight.G, resumed.G);
        SameState.AfterResuming("D", straight.D, resumed.D);
        SameState.AfterResuming("EMA", straight.Ema, resumed.Ema);
    }

    [Fact]
    public void The_shipped_generator_is_a_moving_average_of_G_and_an_older_checkpoint_starts_it_from_G()
    {
        using var scope = NewDisposeScope();
        var data = Data();
        using var trainer = new VideoGanTrainer(Tiny, new VideoGanTrainOptions(BatchSize: 4, Seed: 7, EmaBeta: 0.75));
        SameState.AfterResuming("EMA at the start", trainer.G, trainer.Ema);
        var before = trainer.G.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        trainer.TrainStep(data.Clips(1, 4).Clips);
        var live = trainer.G.state_dict();
        int moved = 0;
        foreach (var (name, ema) in trainer.Ema.state_dict())
        {
            if (!ema.is_floating_point())
            {
                Assert.True(ema.equal(live[name]).all().item<bool>(), $"{name} is copied from G");
                continue;
            }
            var expected = before[name] * 0.75 + live[name] * 0.25;
            Assert.True(ema.allclose(expected, rtol: 0, atol: 1e-6), $"{name}: largest difference {ema.sub(expected).abs().max().item<float>()}");
            if (!ema.allclose(live[name], rtol: 0, atol: 1e-6)) moved++;
        }
        Assert.True(moved > 0, "the step moved G, so the average lags behind it");

        // A checkpoint written before the EMA existed: no generator_ema.safetensors and no emaBeta in its state.
        var checkpoints = Path.Combine(root, "ema-checkpoints");
        var dir = trainer.SaveCheckpoint(checkpoints);
        File.Delete(Path.Combine(dir, "generator_ema.safetensors"));
        var state = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "state.json")))!;
        Assert.True(state["options"]!.AsObject().Remove("emaBeta"));
        File.WriteAllText(Path.Combine(dir, "state.json"), state.ToJsonString());
        using var resumed = VideoGanTrainer.Resume(checkpoints)!;
        Assert.Equal(0.999, resumed.Options.EmaBeta);
        SameState.AfterResuming("EMA started from an older checkpoint's G", trainer.G, resumed.Ema);
        Assert.Throws<ArgumentException>(() => new VideoGanTrainer(Tiny, new VideoGanTrainOptions(EmaBeta: 1)));
        Assert.Throws<ArgumentException>(() => new VideoGanTrainer(Tiny, new VideoGanTrainOptions(EmaBeta: double.NaN)));
    }

    [Fact]
    public void Recomputed_batchnorm_statistics_are_the_average_over_the_batches_and_leave_momentum_and_mode_as_they_were()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        using var net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4));
        net.eval();
        var batches = Enumerable.Range(0, 3).Select(i => randn(10, 3).mul(i + 1).add(i)).ToList();
        Layers.BatchNormStats.Recompute(net, batches.Count, i => net.forward(batches[i]));
        var norm = net.modules().OfType<TorchSharp.Modules.BatchNorm1d>().Single();
        using (no_grad())
        {
            var hidden = batches.Select(b => ((nn.Module<Tensor, Tensor>)net[0]).forward(b)).ToList();
            // PyTorch's cumulative average: the mean of the batch means, and of the batches' unbiased variances.
            var mean = stack(hidden.Select(h => h.mean([0])).ToList()).mean([0]);
            var variance = stack(hidden.Select(h => h.var(0)).ToList()).mean([0]);
            Assert.True(norm.running_mean!.allclose(mean, rtol: 0, atol: 1e-5), $"running mean off by {norm.running_mean!.sub(mean).abs().max().item<float>()}");
            Assert.True(norm.running_var!.allclose(variance, rtol: 0, atol: 1e-4), $"running variance off by {norm.running_var!.sub(variance).abs().max().item<float>()}");
        }
        Assert.Equal(3L, norm.num_batches_tracked!.item<long>());
        Assert.Equal(0.1, norm.momentum);
        Assert.False(net.training);
    }

    [Fact]
    public void The_shipped_generator_is_the_average_with_its_own_statistics_and_leaves_the_average_untouched()
    {
        using var scope = NewDisposeScope();
        var data = Data();
        using var trainer = new VideoGanTrainer(Tiny, new VideoGanTrainOptions(BatchSize: 4, Seed: 9, EmaBeta: 0.5));
        for (int i = 0; i < 3; i++) trainer.TrainStep(data.Clips(1, 4, i * 4).Clips);
        var before = trainer.Ema.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var shipped = trainer.Shipped();
        Assert.False(shipped.training);
        foreach (var (name, value) in trainer.Ema.state_dict())
            Assert.True(value.equal(before[name]).all().item<bool>(), $"the average's {name} is left as it was");
        var own = shipped.state_dict();
        int statistics = 0;
        foreach (var (name, value) in trainer.Ema.state_dict())
        {
            if (name.EndsWith("running_mean") || name.EndsWith("running_var"))
            {
                statistics++;
                Assert.False(own[name].allclose(value, rtol: 0, atol: 1e-6), $"{name} was recomputed");
            }
            else if (value.is_floating_point()) Assert.True(own[name].equal(value).all().item<bool>(), $"{name} is the average's");
        }
        Assert.True(statistics > 0);
        // The same statistics twice: the latents are drawn from a fixed seed.
        using var again = trainer.Shipped();
        SameState.AfterResuming("Shipped() twice", shipped, again);
    }

    [Fact]
    public void Moving_fashion_clips_are_reproducible_move_and_keep_a_static_background()
    {
        using var scope = NewDisposeScope();
        var data = new MovingFashion(FashionMnist.Load(TestData.FashionMnistDirectory, train: false, limit: 200).Images,
            FashionMnist.Load(TestData.FashionMnistDirectory, train: false, limit: 200).Labels, 16, 32);
        var (a, labelsA, kindsA) = data.Clips(9, 6);
        var (b, _, _) = data.Clips(9, 3, first: 3);
        var (other, _, _) = data.Clips(10, 6);
        Assert.Equal([6L, 3, 16, 32, 32], a.shape);
        Assert.True(a.narrow(0, 3, 3).equal(b).all().item<bool>(), "clip i depends only on (seed, i)");
        Assert.False(a.equal(other).all().item<bool>());
        Assert.True(a.min().item<float>() >= -1 && a.max().item<float>() <= 1);
        Assert.True(labelsA.max().item<long>() < 10 && kindsA.max().item<long>() < MovingFashion.Backgrounds.Count);
        for (int c = 0; c < 6; c++)
        {
            var clip = a[c];
            var change = clip.narrow(1, 1, 15).sub(clip.narrow(1, 0, 15)).abs().sum([0L]);   // [15, 32, 32]
            // Something moves between most frames, and most pixels never change: only the item moves.
            Assert.True(change.sum([1, 2]).gt(0).sum().item<long>() >= 12, $"clip {c} barely moves");
            Assert.True(change.sum([0L]).eq(0).to(ScalarType.Float32).mean().item<float>() > 0.3, $"clip {c}'s background is not static");
        }
    }

    [Fact]
    public void A_spherical_walk_starts_and_ends_exactly_at_its_latents_and_keeps_their_length()
    {
        using var scope = NewDisposeScope();
        var ends = Latents.ForSeeds([1, 2], 100);
        var walk = Latents.Slerp(ends.narrow(0, 0, 1), ends.narrow(0, 1, 1), 9);
        Assert.Equal([9L, 100], walk.shape);
        Assert.True(walk[0].equal(ends[0]).all().item<bool>());
        Assert.True(walk[8].equal(ends[1]).all().item<bool>());
        // The middle of a straight line between two Gaussian draws is ~1/√2 as long; the great circle is not.
        double na = ends[0].norm().item<float>(), nb = ends[1].norm().item<float>(), mid = walk[4].norm().item<float>();
        double straight = ends.mean([0]).norm().item<float>();
        Assert.True(mid > Math.Min(na, nb) * 0.95, $"|mid| {mid:F2}, ends {na:F2} {nb:F2}");
        Assert.True(straight < mid * 0.85, $"straight midpoint {straight:F2} vs spherical {mid:F2}");
        Assert.Throws<ArgumentException>(() => Latents.Slerp(ends.narrow(0, 0, 1), ends.narrow(0, 1, 1), 1));
    }

    private static MovingFashion Data()
    {
        var (images, labels) = FashionMnist.Load(TestData.FashionMnistDirectory, train: false, limit: 100);
        return new MovingFashion(images, labels, Tiny.Frames, Tiny.ImageSize);
    }
}
