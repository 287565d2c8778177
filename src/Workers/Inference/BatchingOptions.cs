namespace GanService.Workers.Inference;

/// <summary>
/// Dynamic batching, as Triton's dynamic batcher does it: sampling requests for the same model version coalesce
/// into one forward pass of up to <see cref="MaxBatchSize"/> images, waiting at most <see cref="MaxQueueDelayMs"/>
/// after the oldest of them arrived. Bound from <c>Worker:Batching</c>; <c>Worker:Batching:Models:&lt;name&gt;</c>
/// overrides the sizes per model.
/// </summary>
public sealed class BatchingOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Images per forward pass at most. A single job asking for more still runs, alone.</summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>How long the oldest waiting request may wait for others to join it. 0: take only what is already queued.</summary>
    public double MaxQueueDelayMs { get; set; } = 2;

    public Dictionary<string, ModelBatching> Models { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public (int MaxBatchSize, TimeSpan MaxQueueDelay) For(string model)
    {
        var o = Models.GetValueOrDefault(model);
        int size = Enabled ? o?.MaxBatchSize ?? MaxBatchSize : 1;
        double delay = Enabled ? o?.MaxQueueDelayMs ?? MaxQueueDelayMs : 0;
        return (Math.Max(1, size), TimeSpan.FromMilliseconds(Math.Max(0, delay)));
    }

    public string? Validate()
    {
        if (MaxBatchSize is < 1 or > 4096) return "Worker:Batching:MaxBatchSize must be 1..4096.";
        if (MaxQueueDelayMs is < 0 or > 10_000) return "Worker:Batching:MaxQueueDelayMs must be 0..10000.";
        foreach (var (name, m) in Models)
        {
            if (m.MaxBatchSize is < 1 or > 4096) return $"Worker:Batching:Models:{name}:MaxBatchSize must be 1..4096.";
            if (m.MaxQueueDelayMs is < 0 or > 10_000) return $"Worker:Batching:Models:{name}:MaxQueueDelayMs must be 0..10000.";
        }
        return null;
    }
}

public sealed class ModelBatching
{
    public int? MaxBatchSize { get; set; }
    public double? MaxQueueDelayMs { get; set; }
}
