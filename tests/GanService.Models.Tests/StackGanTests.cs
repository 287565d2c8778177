using GanService.Models.StackGan;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

/// <summary>StackGAN Stage-I: conditioning augmentation, the two networks and the matching-aware training step.</summary>
public sealed class StackGanTests : IDisposable
{
    private static readonly StageOneConfig Tiny = new(TextDim: 12, CondDim: 6, LatentDim: 8, Ngf: 8, Ndf: 8);
    private readonly string root = Path.Combine(Path.GetTempPath(), "stackgan-tests-" + Guid.NewGuid().ToString("N")[..8]);

    public StackGanTests() => set_num_threads(1);

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    [Fact]
    public void Conditioning_augmentation_draws_around_mu_and_its_kl_is_zero_only_at_the_standard_normal()
    {
        using var scope = NewDisposeScope();
        var mu = tensor(new float[] { 0.5f, -1f, 2f, 0f }).view(2, 2);
        var logVar = tensor(new float[] { 0f, 0f, -2f, 1f }).view(2, 2);
        var eps = tensor(new float[] { 1f, -1f, 0.5f, 2f }).view(2, 2);
        var c = ConditioningAugmentation.Sample(mu, logVar, eps);
        // c = μ + exp(logσ²/2)·ε, element by element.
        var expected = new[] { 0.5 + 1, -1 - 1, 2 + Math.Exp(-1) * 0.5, 0 + Math.Exp(0.5) * 2 };
        var got = c.data<float>().ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], got[i], 5);
        Assert.Equal(0.0, ConditioningAugmentation.Kl(zeros(3, 4), zeros(3, 4)).item<float>(), 6);
        Assert.True(ConditioningAugmentation.Kl(mu, logVar).item<float>() > 0.1);
    }

    [Fact]
    public void Stage_one_draws_64_pixel_images_in_range_and_d_gives_one_logit_per_image_and_text()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var g = new StageOneGenerator(Tiny);
        using var d = new StageOneDiscriminator(Tiny);
        var text = randn(3, Tiny.TextDim);
        var (image, mu, logVar) = g.forward(text, randn(3, Tiny.LatentDim));
        Assert.Equal([3L, 3L, 64L, 64L], image.shape);
        Assert.True(image.abs().max().item<float>() <= 1f);
        Assert.Equal([3L, Tiny.CondDim], mu.shape);
        Assert.Equal([3L, Tiny.CondDim], logVar.shape);
        Assert.Equal([3L], d.forward(image, text).shape);
        // Serving draws ε itself: the same condition and noise give the same image.
        g.eval();
        var (m, lv) = g.Condition(text);
        var eps = randn(3, Tiny.CondDim);
        var z = randn(3, Tiny.LatentDim);
        Assert.True(g.FromCondition(ConditioningAugmentation.Sample(m, lv, eps), z).equal(g.FromCondition(ConditioningAugmentation.Sample(m, lv, eps), z)).all().item<bool>());
    }

    [Fact]
    public void The_discriminator_learns_to_tell_matching_text_from_mismatched_text()
    {
        using var scope = NewDisposeScope();
        // Eight flat colours, each with its own "text" vector: D must learn which text goes with which image.
        manual_seed(2);
        var images = zeros(8, 3, 64, 64);
        for (int i = 0; i < 8; i++)
            for (int ch = 0; ch < 3; ch++) images[i, ch].fill_(((i >> ch) & 1) == 1 ? 0.8 : -0.8);
        var text = randn(8, Tiny.TextDim);
        using var trainer = new StageOneTrainer(Tiny, new StageOneTrainOptions(BatchSize: 8, LearningRate: 1e-3, Seed: 2));
        var first = trainer.TrainStep(images, text);
        StageOneProgress last = first;
        for (int s = 0; s < 60; s++) last = trainer.TrainStep(images, text);
        Assert.Equal(61, trainer.Step);
        Assert.True(last.RealRight - last.RealWrong > 0.3,
            $"D(real, right) {last.RealRight:F2} vs D(real, wrong) {last.RealWrong:F2}: D did not learn the matching");
        Assert.True(first.RealRight - first.RealWrong < 0.1, "the untrained D already told them apart: the test shows nothing");
        Assert.True(double.IsFinite(last.LossG) && last.Kl >= 0);
    }

    [Fact]
    public void Training_resumed_from_a_checkpoint_continues_exactly()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var images = rand(4, 3, 64, 64).mul(2).sub(1);
        var text = randn(4, Tiny.TextDim);
        var options = new StageOneTrainOptions(BatchSize: 4, Seed: 4);
        var checkpoints = Path.Combine(root, "checkpoints");
        Assert.Null(StageOneTrainer.Resume(checkpoints));
        using var straight = new StageOneTrainer(Tiny, options);
        for (int i = 0; i < 2; i++) straight.TrainStep(images, text);
        straight.SaveCheckpoint(checkpoints);
        for (int i = 0; i < 2; i++) straight.TrainStep(images, text);
        using var resumed = StageOneTrainer.Resume(checkpoints)!;
        Assert.Equal(2, resumed.Step);
        for (int i = 0; i < 2; i++) resumed.TrainStep(images, text);
        foreach (var (key, value) in straight.G.state_dict())
            Assert.True(value.equal(resumed.G.state_dict()[key]).all().item<bool>(), $"G {key} differs after resuming");
        foreach (var (key, value) in straight.D.state_dict())
            Assert.True(value.equal(resumed.D.state_dict()[key]).all().item<bool>(), $"D {key} differs after resuming");
    }
}
