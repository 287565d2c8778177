using GanService.Models;
using GanService.Models.Data;
using GanService.Models.Evaluation;
using GanService.Models.VideoGan;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// The validation measure for choosing among VGAN checkpoints: the Fréchet distance of frames between
/// <see cref="Clips"/> generated clips (latents 100,000 + i) and as many real validation clips (test-split items,
/// seed 305), in the frame classifier's features, as <c>eval-vgan --split validation</c> prints it. The real features
/// are computed once; the test split's own clips (seeds 303, 304) and latents (0 …) are never used here.
/// </summary>
public sealed class VganValidation : IDisposable
{
    public const long RealSeed = 305, FloorSeed = 306, FirstLatentSeed = 100_000;

    private readonly Classifier classifier;
    private readonly Tensor realFeatures;

    public int Clips { get; }

    public VganValidation(string classifierDir, string dataDir, VideoGanConfig config, int clips)
    {
        if (clips < 2) throw new ArgumentOutOfRangeException(nameof(clips), clips, "a Fréchet distance needs at least 2 clips");
        Clips = clips;
        var (items, labels) = FashionMnist.Load(dataDir, train: false);
        var heldOut = new MovingFashion(items, labels, config.Frames, config.ImageSize);
        items.Dispose();
        labels.Dispose();
        classifier = EvalVganCommand.FrameClassifier(classifierDir, dataDir, heldOut, retrain: false, config);
        using var scope = NewDisposeScope();
        var (real, _, _) = heldOut.Clips(RealSeed, clips);
        realFeatures = classifier.FeaturesInBatches(EvalVganCommand.Frames(real)).MoveToOuterDisposeScope();
    }

    /// <summary>The distance of <paramref name="g"/>'s clips from the real validation clips (lower is better).</summary>
    public double Distance(VideoGanGenerator g)
    {
        using var generated = EvalVganCommand.Generate(g, Clips, FirstLatentSeed);
        using var features = classifier.FeaturesInBatches(EvalVganCommand.Frames(generated.Video));
        return FrechetDistance.Between(features, realFeatures);
    }

    public void Dispose()
    {
        realFeatures.Dispose();
        classifier.Dispose();
    }
}
