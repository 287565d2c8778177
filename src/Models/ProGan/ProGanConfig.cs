namespace GanService.Models.ProGan;

/// <summary>
/// Hyperparameters of a Progressive GAN. Level 0 is 4×4; level L is 4·2^L. Feature maps per level follow the
/// paper's rule nf(level) = min(FmapBase / 2^(level+1), FmapMax), with smaller defaults than the paper's
/// (8192, 512) so that training fits a CPU.
/// </summary>
public sealed record ProGanConfig(
    int FinalResolution = 64,
    int Channels = 3,
    int LatentDim = 128,
    int FmapBase = 2048,
    int FmapMax = 128)
{
    public static ProGanConfig Emoji64 { get; } = new();

    /// <summary>The highest level: log2(FinalResolution) − 2.</summary>
    public int MaxLevel
    {
        get
        {
            if (FinalResolution < 4 || (FinalResolution & (FinalResolution - 1)) != 0)
                throw new ArgumentException($"FinalResolution must be a power of two ≥ 4, got {FinalResolution}.");
            return (int)Math.Log2(FinalResolution) - 2;
        }
    }

    public static int Resolution(int level) => 4 << level;

    public int FeatureMaps(int level) => Math.Max(1, Math.Min(FmapBase >> (level + 1), FmapMax));

    public void Validate()
    {
        _ = MaxLevel;
        if (FinalResolution > 1024) throw new ArgumentException($"FinalResolution must be ≤ 1024, got {FinalResolution}.");
        if (Channels is < 1 or > 4) throw new ArgumentException($"Channels must be 1..4, got {Channels}.");
        if (LatentDim is < 1 or > 4096) throw new ArgumentException($"LatentDim must be 1..4096, got {LatentDim}.");
        if (FmapBase < 8 || FmapMax is < 1 or > 4096) throw new ArgumentException("FmapBase must be ≥ 8 and FmapMax 1..4096.");
    }
}
