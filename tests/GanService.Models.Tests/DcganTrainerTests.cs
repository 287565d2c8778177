using GanService.Models.Data;
using GanService.Models.Dcgan;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

public sealed class DcganTrainerTests
{
    public DcganTrainerTests() => set_num_threads(1);

    [Theory]
    [InlineData(DiscriminatorConditioning.LabelPlanes)]
    [InlineData(DiscriminatorConditioning.AuxClassifier)]
    public void Few_training_steps_give_finite_losses_lower_discriminator_loss_and_change_weights(DiscriminatorConditioning conditioning)
    {
        var (images, labels) = FashionMnist.Load(TestData.FashionMnistDirectory, train: true, limit: 256);
        using var _i = images;
        using var _l = labels;
        using var trainer = new DcganTrainer(DcganConfig.Fashion32, new DcganTrainOptions(BatchSize: 64, Seed: 3, Conditioning: conditioning));
        using var gBefore = trainer.G.state_dict()["main.0.weight"].clone();
        using var dBefore = trainer.D.state_dict()["main.0.weight"].clone();
        using var dClassBefore = conditioning == DiscriminatorConditioning.AuxClassifier ? trainer.D.state_dict()["cls.weight"].clone() : null;

        var losses = new List<(double LossD, double LossG)>();
        for (int step = 0; step < 8; step++)
        {
            long start = step % 4 * 64;
            using var x = images.narrow(0, start, 64);
            using var y = labels.narrow(0, start, 64);
            losses.Add(trainer.Step(x, y));
        }

        Assert.All(losses, l => Assert.True(double.IsFinite(l.LossD) && double.IsFinite(l.LossG), $"non-finite loss {l}"));
        Assert.False(Bitwise.Equal(trainer.G.state_dict()["main.0.weight"], gBefore), "G's weights did not change");
        Assert.False(Bitwise.Equal(trainer.D.state_dict()["main.0.weight"], dBefore), "D's weights did not change");
        if (conditioning == DiscriminatorConditioning.AuxClassifier)
            Assert.False(Bitwise.Equal(trainer.D.state_dict()["cls.weight"], dClassBefore!), "D's class head did not change");
        Assert.True(losses[^1].LossD < losses[0].LossD,
            $"D's loss did not go down: {string.Join(", ", losses.Select(l => l.LossD.ToString("F3")))}");
    }
}
