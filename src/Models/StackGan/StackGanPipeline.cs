using static TorchSharp.torch;

namespace GanService.Models.StackGan;

/// <summary>
/// Text embedding → Stage-I (64×64) → Stage-II (128 or 256) for serving, samples and evaluation. Image i's noise
/// (Stage-I's ε and z, then Stage-II's ε) is drawn from a generator seeded with seeds[i] alone, in that order, so an
/// image depends only on its text and its seed, never on what else is in the batch. Both generators run in eval mode.
/// </summary>
public static class StackGanPipeline
{
    /// <param name="text">[N, TextDim] on the generators' device.</param>
    /// <param name="seeds">N seeds.</param>
    /// <param name="stageTwo">Null: Stage-I only (the second result is then null).</param>
    /// <returns>Stage-I images [N, 3, 64, 64] and Stage-II images [N, 3, S, S], in [−1, 1], on the generators' device.</returns>
    public static (Tensor StageOne, Tensor? StageTwo) Draw(StageOneGenerator stageOne, StageTwoGenerator? stageTwo, Tensor text, IReadOnlyList<long> seeds)
    {
        if (text.shape[0] != seeds.Count) throw new ArgumentException($"{text.shape[0]} texts but {seeds.Count} seeds.");
        var device = text.device;
        var eps1 = new List<Tensor>();
        var z = new List<Tensor>();
        var eps2 = new List<Tensor>();
        using var scope = NewDisposeScope();
        foreach (var seed in seeds)
        {
            using var gen = new Generator(unchecked((ulong)seed));
            eps1.Add(randn([1, stageOne.Config.CondDim], generator: gen));
            z.Add(randn([1, stageOne.Config.LatentDim], generator: gen));
            eps2.Add(randn([1, stageTwo?.Config.CondDim ?? 1], generator: gen));
        }
        stageOne.eval();
        stageTwo?.eval();
        using var _ = no_grad();
        var (mu1, logVar1) = stageOne.Condition(text);
        var low = stageOne.FromCondition(ConditioningAugmentation.Sample(mu1, logVar1, cat(eps1, 0).to(device)), cat(z, 0).to(device));
        Tensor? high = null;
        if (stageTwo is not null)
        {
            var (mu2, logVar2) = stageTwo.Condition(text);
            high = stageTwo.FromCondition(low, ConditioningAugmentation.Sample(mu2, logVar2, cat(eps2, 0).to(device))).MoveToOuterDisposeScope();
        }
        return (low.MoveToOuterDisposeScope(), high);
    }
}
