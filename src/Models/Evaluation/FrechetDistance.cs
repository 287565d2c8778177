using static TorchSharp.torch;

namespace GanService.Models.Evaluation;

/// <summary>Mean and covariance of a feature set, in float64, so a reference set's statistics are computed once.</summary>
public sealed class FeatureStatistics : IDisposable
{
    public Tensor Mean { get; }
    public Tensor Covariance { get; }
    public long Count { get; }

    private FeatureStatistics(Tensor mean, Tensor covariance, long count)
    {
        Mean = mean;
        Covariance = covariance;
        Count = count;
    }

    /// <param name="features">[N, D] with N ≥ 2.</param>
    public static FeatureStatistics Of(Tensor features)
    {
        if (features.dim() != 2 || features.shape[0] < 2)
            throw new ArgumentException($"features must be [N ≥ 2, D], got [{string.Join(", ", features.shape)}].");
        using var scope = NewDisposeScope();
        var x = features.to(ScalarType.Float64);
        var mean = x.mean([0]);
        var centered = x - mean;
        var covariance = centered.T.matmul(centered) / (features.shape[0] - 1);
        return new FeatureStatistics(mean.MoveToOuterDisposeScope(), covariance.MoveToOuterDisposeScope(), features.shape[0]);
    }

    public void Dispose()
    {
        Mean.Dispose();
        Covariance.Dispose();
    }
}

/// <summary>
/// Fréchet distance between Gaussians fitted to two feature sets (the FID formula):
/// |μ₁ − μ₂|² + tr C₁ + tr C₂ − 2 tr √(C₁C₂).
/// </summary>
/// <remarks>
/// tr √(C₁C₂) equals tr √(√C₁ C₂ √C₁), and √C₁ C₂ √C₁ is symmetric positive semi-definite, so both square roots come
/// from symmetric eigendecompositions (eigh, eigvalsh) instead of a general matrix square root: no complex parts to drop.
/// Rounding can push eigenvalues of near-singular covariances slightly below zero; they are clamped to 0.
/// </remarks>
public static class FrechetDistance
{
    public static double Between(Tensor featuresA, Tensor featuresB)
    {
        using var a = FeatureStatistics.Of(featuresA);
        using var b = FeatureStatistics.Of(featuresB);
        return Between(a, b);
    }

    public static double Between(FeatureStatistics a, FeatureStatistics b)
    {
        if (!a.Mean.shape.SequenceEqual(b.Mean.shape))
            throw new ArgumentException($"feature dimensions differ: {a.Mean.shape[0]} vs {b.Mean.shape[0]}.");
        using var scope = NewDisposeScope();
        var meanTerm = (a.Mean - b.Mean).square().sum();
        var sqrtA = SymmetricSqrt(a.Covariance);
        var inner = sqrtA.matmul(b.Covariance).matmul(sqrtA);
        inner = (inner + inner.T) / 2;  // symmetric in exact arithmetic; eigvalsh reads one triangle only
        var traceSqrt = linalg.eigvalsh(inner).clamp_min(0).sqrt().sum();
        var distance = meanTerm + a.Covariance.trace() + b.Covariance.trace() - 2 * traceSqrt;
        return distance.item<double>();
    }

    static Tensor SymmetricSqrt(Tensor symmetric)
    {
        var (eigenvalues, eigenvectors) = linalg.eigh(symmetric);
        return eigenvectors.matmul(diag(eigenvalues.clamp_min(0).sqrt())).matmul(eigenvectors.T);
    }
}
