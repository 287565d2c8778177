namespace GanService.Core.Data;

/// <summary>A servable model (name, kind, family); its weights live in versions.</summary>
public sealed class ModelRecord
{
    public required string Name { get; set; }
    public required string Kind { get; set; }
    public required string Family { get; set; }
    public bool IsDefault { get; set; }
    public int Resolution { get; set; }
    public string[] Labels { get; set; } = [];
    /// <summary>An aging model's age groups, youngest first; empty for other kinds.</summary>
    public string[] AgeGroups { get; set; } = [];
    public string? Description { get; set; }
    public Guid? CurrentVersionId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public List<ModelVersion> Versions { get; set; } = [];
}

/// <summary>One set of weights of a model, identified by the sha256 of its safetensors file.</summary>
public sealed class ModelVersion
{
    public Guid Id { get; set; }
    public required string ModelName { get; set; }
    /// <summary>First 12 hex digits of <see cref="Sha256"/>: what jobs report as modelVersion.</summary>
    public required string Version { get; set; }
    public required string Sha256 { get; set; }
    public required string WeightsPath { get; set; }
    /// <summary>The network's hyperparameters (jsonb).</summary>
    public required string Config { get; set; }
    /// <summary>Quality figures from our evaluation (jsonb).</summary>
    public string? Metrics { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class ApiKey
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    /// <summary>The first characters of the key, to recognise it in lists; the key itself is never stored.</summary>
    public required string Prefix { get; set; }
    /// <summary>sha256 of the whole key, hex. Keys carry 190 random bits, so a fast hash is enough.</summary>
    public required string Hash { get; set; }
    public string[] Scopes { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    /// <summary>Signs this key's webhook deliveries ("whsec_" + base64 of 32 random bytes); made on first use.</summary>
    public string? WebhookSecret { get; set; }
}

/// <summary>A running worker process, upserted by its heartbeat; /health/ready lists those seen recently.</summary>
public sealed class WorkerRecord
{
    /// <summary>host:pid, as the Hangfire server is named.</summary>
    public required string Id { get; set; }
    public required string Device { get; set; }
    /// <summary>What the device is: "cpu (2 threads)", or the GPU's name.</summary>
    public required string DeviceName { get; set; }
    public long? DeviceMemoryBytes { get; set; }
    public string[] Queues { get; set; } = [];
    /// <summary>Video formats this worker can write (gif and webp always; mp4 when it has ffmpeg).</summary>
    public string[] VideoFormats { get; set; } = [];
    public int Concurrency { get; set; }
    public bool Batching { get; set; }
    /// <summary>Model versions loaded in this worker (jsonb: [{model, version}]).</summary>
    public string LoadedModels { get; set; } = "[]";
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset HeartbeatAt { get; set; }
}
