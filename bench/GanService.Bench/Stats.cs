namespace GanService.Bench;

/// <summary>The order statistics every bench part prints.</summary>
public static class Stats
{
    /// <summary>The middle value; for an even count the mean of the two middle values.</summary>
    public static double Median(IEnumerable<double> xs)
    {
        var sorted = xs.Order().ToList();
        if (sorted.Count == 0) return double.NaN;
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Nearest-rank percentile (p in 0..100).</summary>
    public static double Percentile(List<double> xs, double p)
    {
        var sorted = xs.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100 * sorted.Count) - 1)];
    }
}
