using GanService.Models.Data;
using GanService.Models.Evaluation;
using GanService.Models.ProGan;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

public sealed class ImageGeneratorEvaluationTests
{
    public ImageGeneratorEvaluationTests() => set_num_threads(1);

    /// <summary>"Generates" real images it was given, in order: a generator that is as good as the data.</summary>
    private sealed class Replay(Tensor images) : nn.Module<Tensor, Tensor>("Replay"), IImageGenerator
    {
        private long next;
        public int ImageSize => (int)images.shape[2];
        public int Channels => (int)images.shape[1];
        public int LatentDim => 8;
        public int NumClasses => 0;
        public Tensor Generate(Tensor z, Tensor? labels)
        {
            var batch = images.narrow(0, next, z.shape[0]).clone();
            next += z.shape[0];
            return batch;
        }
        public override Tensor forward(Tensor z) => Generate(z, null);
    }

    [Fact]
    public void A_generator_of_real_images_scores_near_the_real_floor_and_an_untrained_one_far_above()
    {
        var (images, _) = FashionMnist.Load(TestData.FashionMnistDirectory, train: true, limit: 900);
        using var _i = images;
        using var real = images.narrow(0, 0, 600);
        using var unseen = images.narrow(0, 600, 300);
        manual_seed(1);
        using var classifier = new Classifier(ClassifierConfig.Fashion); // untrained: random features still separate
        var config = new ProGanConfig(FinalResolution: 32, Channels: 1, LatentDim: 8, FmapBase: 64, FmapMax: 16);
        using var untrained = new ProGanGenerator(config);
        using var replay = new Replay(unseen);

        var result = ImageGeneratorEvaluation.Run(replay, untrained, classifier, real, FashionMnist.Labels);

        Assert.Equal(300, result.Samples);
        Assert.True(result.FrechetDistanceFloor > 0, "two different real halves cannot have FD 0");
        Assert.True(result.FrechetDistance < 2 * result.FrechetDistanceFloor, $"real images scored {result.FrechetDistance:F3}, floor {result.FrechetDistanceFloor:F3}");
        Assert.True(result.FrechetDistanceUntrained > 5 * result.FrechetDistanceFloor, $"untrained {result.FrechetDistanceUntrained:F3}, floor {result.FrechetDistanceFloor:F3}");
        Assert.Equal(1.0, result.CategoryShare.Values.Sum(), 1e-9);
        Assert.InRange(result.CategoryTotalVariation, 0, 0.3);
    }
}
