namespace GanService.Models.ProGan;

/// <summary>
/// The progressive schedule in thousands of real images shown (kimg), as in the paper: level 0 (4×4) is trained for
/// <see cref="StableKimg"/>; every further level first fades in over <see cref="FadeKimg"/> (α from 0 to 1), then is
/// trained at α = 1 for <see cref="StableKimg"/>. <see cref="Progressive"/> = false trains the final level directly,
/// from the start, for the same total: the baseline the paper compares against. <see cref="FinalKimg"/>, when set,
/// replaces the last level's stable phase (the paper keeps training at the final resolution for as long as the budget
/// allows).
/// </summary>
public sealed record ProGanSchedule(double StableKimg = 30, double FadeKimg = 30, bool Progressive = true, double? FinalKimg = null)
{
    public long TotalImages(int maxLevel) =>
        (long)Math.Round(1000 * (StableKimg * maxLevel + (FinalKimg ?? StableKimg) + FadeKimg * maxLevel));

    /// <summary>Level and fade-in α after <paramref name="imagesShown"/> real images.</summary>
    public (int Level, double Alpha) At(long imagesShown, int maxLevel)
    {
        if (!Progressive) return (maxLevel, 1.0);
        double kimg = imagesShown / 1000.0;
        if (kimg < StableKimg) return (0, 1.0);
        kimg -= StableKimg;
        for (int level = 1; level <= maxLevel; level++)
        {
            if (kimg < FadeKimg) return (level, FadeKimg <= 0 ? 1.0 : kimg / FadeKimg);
            kimg -= FadeKimg;
            if (kimg < StableKimg) return (level, 1.0);
            kimg -= StableKimg;
        }
        return (maxLevel, 1.0);
    }

    public void Validate()
    {
        if (StableKimg < 0 || FadeKimg < 0 || StableKimg + FadeKimg <= 0) throw new ArgumentException("StableKimg and FadeKimg must be ≥ 0, not both 0.");
        if (FinalKimg is <= 0) throw new ArgumentException("FinalKimg must be > 0 when set.");
    }
}
