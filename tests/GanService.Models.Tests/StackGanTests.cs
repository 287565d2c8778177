using GanService.Models.StackGan;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

/// <summary>StackGAN: conditioning augmentation, both stages' networks, the matching-aware training step, exact resume.</summary>
public sealed class StackGanTests : IDisposable
{
    private static readonly StageOneConfig Tiny = new(TextDim: 12, CondDim: 6, LatentDim: 8, Ngf: 8, Ndf: 8);
    private static readonly StageTwoConfig TinyTwo = new(TextDim: 12, CondDim: 6, ImageSize: 128, Ngf: 16, Ndf: 8, ResidualBlocks: 1);
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
        using var d = new MatchingAwareDiscriminator(Tiny);
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
        StackGanProgress last = first;
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
        SameState.AfterResuming("G", straight.G, resumed.G);
        SameState.AfterResuming("D", straight.D, resumed.D);
    }

    [Fact]
    public void Stage_two_turns_a_64_pixel_image_and_text_into_128_or_256_pixels_and_depends_on_both()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        foreach (var size in new[] { 128, 256 })
        {
            using var g = new StageTwoGenerator(TinyTwo with { ImageSize = size });
            using var d = new MatchingAwareDiscriminator(TinyTwo with { ImageSize = size });
            g.eval();
            var low = rand(2, 3, 64, 64).mul(2).sub(1);
            var text = randn(2, TinyTwo.TextDim);
            var (mu, logVar) = g.Condition(text);
            var c = ConditioningAugmentation.Sample(mu, logVar, randn(2, TinyTwo.CondDim));
            var image = g.FromCondition(low, c);
            Assert.Equal([2L, 3L, size, size], image.shape);
            Assert.True(image.abs().max().item<float>() <= 1f);
            Assert.Equal([2L], d.forward(image, text).shape);
            // Both inputs reach the output: another Stage-I image, or another condition, changes it.
            Assert.False(g.FromCondition(low.flip(0), c).equal(image).all().item<bool>(), "Stage-II ignores the Stage-I image");
            Assert.False(g.FromCondition(low, c.flip(0)).equal(image).all().item<bool>(), "Stage-II ignores the text's condition");
        }
        Assert.Throws<ArgumentException>(() => new StageTwoConfig(ImageSize: 64).Validate());
    }

    [Fact]
    public void Stage_two_training_keeps_stage_one_frozen_and_resumes_exactly()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var images = rand(4, 3, 128, 128).mul(2).sub(1);
        var text = randn(4, TinyTwo.TextDim);
        var stageOne = new StageOneGenerator(Tiny);
        var before = stageOne.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var options = new StageTwoTrainOptions(BatchSize: 4, Seed: 6);
        var checkpoints = Path.Combine(root, "stage2");
        Assert.Null(StageTwoTrainer.Resume(checkpoints));
        using var straight = new StageTwoTrainer(TinyTwo, options, stageOne);
        for (int i = 0; i < 2; i++) straight.TrainStep(images, text);
        straight.SaveCheckpoint(checkpoints);
        var gAtSave = straight.G.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        StackGanProgress p = straight.TrainStep(images, text);
        straight.TrainStep(images, text);
        Assert.True(double.IsFinite(p.LossD) && double.IsFinite(p.LossG) && p.Kl >= 0);
        // Stage-I did not move (running statistics included: it runs in eval mode); Stage-II did.
        foreach (var (key, value) in straight.StageOne.state_dict())
            Assert.True(value.equal(before[key]).all().item<bool>(), $"Stage-I {key} changed while training Stage-II");
        Assert.Contains(straight.G.state_dict(), kv => !kv.Value.equal(gAtSave[kv.Key]).all().item<bool>());
        using var resumed = StageTwoTrainer.Resume(checkpoints)!;
        Assert.Equal(2, resumed.Step);
        for (int i = 0; i < 2; i++) resumed.TrainStep(images, text);
        SameState.AfterResuming("G", straight.G, resumed.G);
        SameState.AfterResuming("D", straight.D, resumed.D);
    }

    [Fact]
    public void The_reconstruction_term_pulls_stage_two_towards_the_real_image_of_its_text()
    {
        using var scope = NewDisposeScope();
        // Emoji-like targets: white, with a dark square whose place differs per image.
        var images = ones(4, 3, 128, 128);
        for (int i = 0; i < 4; i++) images[i].narrow(1, 16 + 20 * i, 40).narrow(2, 32, 48).fill_(-0.7);
        manual_seed(8);
        var text = randn(4, TinyTwo.TextDim);
        double Final(double weight)
        {
            manual_seed(8);
            using var trainer = new StageTwoTrainer(TinyTwo, new StageTwoTrainOptions(BatchSize: 4, LearningRate: 1e-3, Seed: 8, ReconstructionWeight: weight),
                new StageOneGenerator(Tiny));
            StackGanProgress p = trainer.TrainStep(images, text);
            for (int i = 0; i < 24; i++) p = trainer.TrainStep(images, text);
            return p.Reconstruction;
        }
        double without = Final(0), with = Final(100);
        // The same seeds and steps: only the L1 term in G's loss differs, and it must bring the images closer.
        Assert.True(with < 0.75 * without, $"L1 to the real images after 25 steps: {with:F3} with the term, {without:F3} without");
    }

    [Fact]
    public void A_served_bundle_round_trips_through_one_weights_file_and_draws_per_seed()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var encoderConfig = new Text.TextEncoderConfig(VocabSize: 6, MaxTokens: 5, EmbedDim: 8, Hidden: 16, TextDim: Tiny.TextDim);
        // cl100k ids of " red" and " apple" etc.: the vocabulary of four pieces.
        var pieceIds = Text.CaptionTokenizer.PieceIds("red apple green").Distinct().Take(4).ToList();
        var encoder = new Text.CaptionEncoderFiles(new Text.CaptionTokenizer(pieceIds, 5), new Text.TextEncoder(encoderConfig with { VocabSize = pieceIds.Count + 2 }));
        foreach (var withTwo in new[] { false, true })
        {
            using var model = StackGanModel.From(encoder, new StageOneGenerator(Tiny), withTwo ? new StageTwoGenerator(TinyTwo) : null, "test");
            Directory.CreateDirectory(root);
            var path = Path.Combine(root, $"bundle-{withTwo}.safetensors");
            Weights.Save(model, path);
            var json = System.Text.Json.JsonSerializer.Serialize(model.Config, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
            using var loaded = StackGanModel.Load(json, path);
            Assert.Equal(pieceIds, loaded.Tokenizer.Pieces);
            Assert.Equal(withTwo ? 128 : 64, loaded.ImageSize);
            var (text, reading) = loaded.Embed("RED   Apple blorp");
            Assert.Equal(new PromptReading(Text.CaptionTokenizer.PieceIds("red apple blorp").Count, Text.CaptionTokenizer.PieceIds(" blorp").Count, false), reading);
            var (originalText, _) = model.Embed("red apple blorp");
            Assert.True(text.equal(originalText).all().item<bool>(), "the loaded encoder reads the prompt differently");
            var (low, high) = loaded.Draw(text, [5, 6, 7]);
            var (lowAgain, highAgain) = model.Draw(originalText, [6]);
            Assert.Equal([3L, 3, 64, 64], low.shape);
            Assert.Equal(withTwo, high is not null);
            // Image i depends only on its seed: seed 6 alone gives the second image of the three.
            Assert.True(low[1].equal(lowAgain[0]).all().item<bool>(), "Stage-I image depends on the other seeds");
            if (high is not null) Assert.True(high[1].equal(highAgain![0]).all().item<bool>(), "Stage-II image depends on the other seeds");
            Assert.False(low[0].equal(low[1]).all().item<bool>());
        }
        Assert.Throws<ArgumentException>(() => new StackGanModel(new StackGanBundleConfig(encoderConfig, Tiny with { TextDim = 3 }, null, "x")));
    }

    [Fact]
    public void DiffAugment_is_seeded_differs_per_image_cuts_a_grey_square_and_passes_gradients()
    {
        using var scope = NewDisposeScope();
        // A white image with a dark centre, like an emoji: four copies.
        var images = ones(4, 3, 32, 32);
        images.narrow(2, 8, 16).narrow(3, 8, 16).fill_(-0.6);
        images.requires_grad = true;
        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        var a = DiffAugment.Apply(images, g1);
        var b = DiffAugment.Apply(images, g2);
        Assert.Equal(images.shape, a.shape);
        Assert.True(a.equal(b).all().item<bool>(), "the same generator state must give the same augmentation");
        Assert.False(a[0].equal(a[1]).all().item<bool>(), "each image gets its own augmentation");
        // Cutout: every image has a square of exact zeros (an 8×8 block at least, clipped at the edge).
        for (int i = 0; i < 4; i++)
            Assert.True(a[i].eq(0).all(0).sum().item<long>() >= 64, $"image {i} has no cutout");
        a.sum().backward();
        Assert.True(images.grad is { } grad && grad.abs().sum().item<float>() > 0, "no gradient reaches the input");
    }
}
