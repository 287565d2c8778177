using GanService.Models.Data;
using GanService.Models.Evaluation;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GanService.Models.Tests;

public sealed class ClassifierTests
{
    public ClassifierTests() => set_num_threads(1);

    [Fact]
    public void Classifier_gives_128_features_and_10_logits()
    {
        manual_seed(1);
        using var model = new Classifier();
        model.eval();
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        var x = rand([4, 1, 32, 32]) * 2 - 1;

        Assert.Equal([4L, 128], model.Features(x).shape);
        Assert.Equal([4L, 10], model.forward(x).shape);
        Assert.Equal(
            ["bn1.bias", "bn1.num_batches_tracked", "bn1.running_mean", "bn1.running_var", "bn1.weight",
             "bn2.bias", "bn2.num_batches_tracked", "bn2.running_mean", "bn2.running_var", "bn2.weight",
             "conv1.weight", "conv2.weight", "fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"],
            model.state_dict().Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Emoji_classifier_takes_64_px_colour_with_three_blocks_and_gives_128_features_and_a_logit_per_category()
    {
        manual_seed(1);
        using var model = new Classifier(ClassifierConfig.Emoji64);
        model.eval();
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        var x = rand([2, 3, 64, 64]) * 2 - 1;

        Assert.Equal([2L, 128], model.Features(x).shape);
        Assert.Equal([2L, Emoji.Categories.Count], model.forward(x).shape);
        Assert.Contains("conv3.weight", model.state_dict().Keys);
        Assert.Equal([64L, 32, 3, 3], model.state_dict()["conv3.weight"].shape);
        Assert.Throws<ArgumentException>(() => model.Features(rand([2, 1, 32, 32])));
        Assert.Throws<ArgumentException>(() => new Classifier(new ClassifierConfig(3, 48, 9)));
    }

    [Fact]
    public void Classifier_trained_few_steps_on_a_tiny_subset_lowers_its_loss()
    {
        var (images, labels) = FashionMnist.Load(TestData.FashionMnistDirectory, train: true, limit: 512);
        using var _i = images;
        using var _l = labels;
        using var trainer = new ClassifierTrainer(new ClassifierTrainOptions(BatchSize: 64, Seed: 1, MaxSteps: 24));

        double before = Loss(trainer.Model, images, labels);
        trainer.Train(images, labels);
        double after = Loss(trainer.Model, images, labels);

        Assert.True(double.IsFinite(after));
        Assert.True(after < 0.6 * before, $"loss went from {before:F3} to {after:F3}");
    }

    static double Loss(Classifier model, Tensor images, Tensor labels)
    {
        model.eval();
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        return cross_entropy(model.forward(images), labels).item<float>();
    }
}
