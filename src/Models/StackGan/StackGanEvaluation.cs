using GanService.Models.Evaluation;
using GanService.Models.Text;
using GanService.Models.Training;
using static TorchSharp.torch;

namespace GanService.Models.StackGan;

/// <summary>Fréchet distances in the matcher's image features, each beside what bounds it.</summary>
/// <param name="Generated">Generated images vs the reference half of the real images.</param>
/// <param name="Floor">The other real half vs the reference half: what a perfect generator could reach at this size.</param>
/// <param name="Baseline">What the stage must beat: an untrained Stage-I; for Stage-II, Stage-I's image enlarged (bilinear).</param>
public sealed record FrechetReport(double Generated, double Floor, double Baseline, int Samples);

/// <param name="HeldOutCaptions">Held-out images' captions → the images generated for them (one per caption, seed 0),
/// ranked by the matcher: does each caption pick its own image out of all generated ones?</param>
/// <param name="HeldOutCaptionsRealImages">The same captions ranked against the real held-out images: the matcher's own
/// ceiling for this query set.</param>
/// <param name="HeldOutPhrasing">As <paramref name="HeldOutCaptions"/>, with the phrasing no training caption uses.</param>
/// <param name="StageOne">64 px: generated vs real at 64.</param>
/// <param name="StageTwoResized">Stage-II's images and the real ones at Stage-II's size, both reduced to 64 px for the features.</param>
/// <param name="StageTwoCrops">The centre 128 px of Stage-II's images and of the real ones at Stage-II's size, as four 64 px
/// crops each at full resolution: detail a 64 px image cannot hold.</param>
public sealed record StackGanEvaluationResult(
    Retrieval HeldOutCaptions, Retrieval HeldOutCaptionsRealImages, Retrieval HeldOutPhrasing, Retrieval? HeldOutCaptionsStageTwo,
    FrechetReport StageOne, FrechetReport? StageTwoResized, FrechetReport? StageTwoCrops);

/// <summary>
/// Scores a StackGAN model with the caption matcher trained beside its text encoder (models/emoji-text-encoder):
/// text→image retrieval of generated images by held-out captions, and Fréchet distances in the matcher's image
/// features (its encoder reads 64 px) against real images split into two seeded halves, with the real-vs-real floor.
/// </summary>
public static class StackGanEvaluation
{
    public static StackGanEvaluationResult Run(StageOneGenerator stageOne, StageTwoGenerator? stageTwo, CaptionEncoderFiles encoder,
        CaptionMatcher matcher, IReadOnlyList<Data.CaptionedImage> catalog, long seed = 1)
    {
        using var scope = NewDisposeScope();
        matcher.eval();
        var held = catalog.Where(c => c.HeldOut).ToList();
        var heldNames = held.Select(c => c.Name).ToList();
        var heldReal = Data.ImageFiles.LoadOnWhite(held.Select(c => c.Path).ToList(), StageOneConfig.ImageSize);
        var (heldLow, heldHigh) = Draw(stageOne, stageTwo, encoder, held.Select(c => c.Captions[0]).ToList());
        var (heldLowPhrasing, _) = Draw(stageOne, null, encoder, held.Select(c => c.HeldOutCaption).ToList());
        var own = held.Select((c, i) => (c.Captions[0], i)).ToList();
        var ownPhrasing = held.Select((c, i) => (c.HeldOutCaption, i)).ToList();
        var retrieval = MatchingEvaluation.Rank(matcher, encoder.Tokenizer, heldLow, heldNames, own);
        var ceiling = MatchingEvaluation.Rank(matcher, encoder.Tokenizer, heldReal, heldNames, own);
        var phrasing = MatchingEvaluation.Rank(matcher, encoder.Tokenizer, heldLowPhrasing, heldNames, ownPhrasing);
        var retrievalTwo = heldHigh is null ? null : MatchingEvaluation.Rank(matcher, encoder.Tokenizer, Resize(heldHigh, StageOneConfig.ImageSize), heldNames, own);

        // Every image, split in two seeded halves: A's captions drive the generator, B is the reference.
        var order = Enumerable.Range(0, catalog.Count).ToArray();
        new Random(unchecked((int)seed)).Shuffle(order);
        int half = catalog.Count / 2;
        var a = order.Take(half).Select(i => catalog[i]).ToList();
        var b = order.Skip(half).Take(half).Select(i => catalog[i]).ToList();
        var captionsA = a.Select(c => c.Captions[0]).ToList();
        var (genLow, genHigh) = Draw(stageOne, stageTwo, encoder, captionsA);
        var realA = Data.ImageFiles.LoadOnWhite(a.Select(c => c.Path).ToList(), StageOneConfig.ImageSize);
        var realB = Data.ImageFiles.LoadOnWhite(b.Select(c => c.Path).ToList(), StageOneConfig.ImageSize);
        var featB = Features(matcher, realB);
        using var untrained = new StageOneGenerator(stageOne.Config);
        var (untrainedLow, _) = Draw(untrained, null, encoder, captionsA);
        var one = new FrechetReport(FrechetDistance.Between(Features(matcher, genLow), featB), FrechetDistance.Between(Features(matcher, realA), featB),
            FrechetDistance.Between(Features(matcher, untrainedLow), featB), half);

        FrechetReport? resized = null, crops = null;
        if (stageTwo is not null && genHigh is not null)
        {
            int size = stageTwo.Config.ImageSize;
            var hiA = Data.ImageFiles.LoadOnWhite(a.Select(c => c.Path).ToList(), size);
            var hiB = Data.ImageFiles.LoadOnWhite(b.Select(c => c.Path).ToList(), size);
            var enlarged = nn.functional.interpolate(genLow, [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
            var featBResized = Features(matcher, Resize(hiB, StageOneConfig.ImageSize));
            resized = new FrechetReport(FrechetDistance.Between(Features(matcher, Resize(genHigh, StageOneConfig.ImageSize)), featBResized),
                FrechetDistance.Between(Features(matcher, Resize(hiA, StageOneConfig.ImageSize)), featBResized),
                FrechetDistance.Between(Features(matcher, Resize(enlarged, StageOneConfig.ImageSize)), featBResized), half);
            var featBCrops = Features(matcher, CentreCrops(hiB));
            crops = new FrechetReport(FrechetDistance.Between(Features(matcher, CentreCrops(genHigh)), featBCrops),
                FrechetDistance.Between(Features(matcher, CentreCrops(hiA)), featBCrops),
                FrechetDistance.Between(Features(matcher, CentreCrops(enlarged)), featBCrops), 4 * half);
        }
        return new StackGanEvaluationResult(retrieval, ceiling, phrasing, retrievalTwo, one, resized, crops);
    }

    /// <summary>Stage-I (and Stage-II) images for the captions, seed i for caption i, in batches of 64, on the CPU.</summary>
    public static (Tensor StageOne, Tensor? StageTwo) Draw(StageOneGenerator stageOne, StageTwoGenerator? stageTwo, CaptionEncoderFiles encoder,
        IReadOnlyList<string> captions)
    {
        var lows = new List<Tensor>();
        var highs = new List<Tensor>();
        for (int i = 0; i < captions.Count; i += 64)
        {
            var chunk = captions.Skip(i).Take(64).ToList();
            using var text = encoder.Embed(chunk);
            var (low, high) = StackGanPipeline.Draw(stageOne, stageTwo, text, Enumerable.Range(i, chunk.Count).Select(s => (long)s).ToList());
            lows.Add(low.clamp(-1, 1));
            if (high is not null) highs.Add(high.clamp(-1, 1));
        }
        return (cat(lows, 0), highs.Count > 0 ? cat(highs, 0) : null);
    }

    private static Tensor Resize(Tensor images, int size) =>
        nn.functional.interpolate(images, [size, size], mode: InterpolationMode.Area);

    /// <summary>[N, 3, S, S] → the four 64 px tiles of the centre 128 px, [4N, 3, 64, 64].</summary>
    private static Tensor CentreCrops(Tensor images)
    {
        long s = images.shape[2], o = s / 2 - 64;
        var centre = images.narrow(2, o, 128).narrow(3, o, 128);
        return cat([centre.narrow(2, 0, 64).narrow(3, 0, 64), centre.narrow(2, 0, 64).narrow(3, 64, 64),
            centre.narrow(2, 64, 64).narrow(3, 0, 64), centre.narrow(2, 64, 64).narrow(3, 64, 64)], 0);
    }

    private static Tensor Features(CaptionMatcher matcher, Tensor images)
    {
        using var _ = no_grad();
        return Batches.InSlices(images, 256, matcher.Image.forward);
    }
}
