using System.Security.Cryptography;
using GanService.Core.Data;
using Microsoft.EntityFrameworkCore;
using GanService.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GanService.Core.Models;

/// <summary>Registers the shipped models (models/*/model.json) as model rows and versions, keyed by weights sha256.</summary>
public sealed class ModelRegistry(GanDbContext db, IOptions<StorageOptions> storage, ILogger<ModelRegistry> log)
{
    public async Task RegisterShippedAsync(string root, CancellationToken ct)
    {
        if (!Directory.Exists(root))
        {
            log.LogWarning("Model folder {Root} does not exist: no shipped models registered", root);
            return;
        }
        foreach (var manifestPath in Directory.GetFiles(root, "model.json", SearchOption.AllDirectories).Order())
        {
            var manifest = ModelManifest.Read(manifestPath);
            var dir = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
            var weights = Path.Combine(dir, manifest.Weights);
            if (!File.Exists(weights))
            {
                log.LogWarning("Model {Model}: weights {Weights} missing, not registered", manifest.Name, weights);
                continue;
            }
            var metricsPath = Path.Combine(dir, "metrics.json");
            string? metrics = File.Exists(metricsPath) ? await File.ReadAllTextAsync(metricsPath, ct) : null;
            await RegisterAsync(manifest, weights, metrics, ct);
        }
    }

    /// <summary>
    /// Registers imported weights (already validated against their family's network) as a new version of
    /// <paramref name="name"/>: checks the name is free or the same family's generation model, and the labels fit the
    /// network's classes (default "0", "1", …). Throws <see cref="ArgumentException"/> with the field as ParamName.
    /// </summary>
    public async Task<ModelVersion> ImportAsync(
        string name, string family, string? description, string[]? labels, int resolution, int numClasses, string configJson,
        string weightsPath, CancellationToken ct)
    {
        var existing = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Name == name, ct);
        if (existing is not null && (existing.Family != family || existing.Kind != "generation"))
            throw new ArgumentException($"Model '{name}' exists as a {existing.Family} {existing.Kind} model; pick another name.", "name");
        if (numClasses == 0 && labels is { Length: > 0 })
            throw new ArgumentException("This network is unconditional: it takes no labels.", "labels");
        if (numClasses > 0 && labels is not null && labels.Length != numClasses)
            throw new ArgumentException($"The network has {numClasses} classes; {labels.Length} labels were given.", "labels");
        if (labels is not null && labels.Distinct(StringComparer.OrdinalIgnoreCase).Count() != labels.Length)
            throw new ArgumentException("Labels must be distinct.", "labels");
        var manifest = new ModelManifest(
            name, "generation", family, IsDefault: false, resolution,
            numClasses > 0 ? labels ?? Enumerable.Range(0, numClasses).Select(i => i.ToString()).ToArray() : null,
            description ?? $"Imported {family} generator.", Path.GetFileName(weightsPath),
            System.Text.Json.JsonDocument.Parse(configJson).RootElement.Clone(), Dataset: null, TrainCommand: null);
        return await RegisterAsync(manifest, weightsPath, metrics: null, ct);
    }

    public async Task<ModelVersion> RegisterAsync(ModelManifest manifest, string weightsPath, string? metrics, CancellationToken ct)
    {
        string sha;
        await using (var stream = File.OpenRead(weightsPath))
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));

        var model = await db.Models.FirstOrDefaultAsync(m => m.Name == manifest.Name, ct);
        if (model is null)
        {
            model = new ModelRecord { Name = manifest.Name, Kind = manifest.Kind, Family = manifest.Family, CreatedAt = DateTimeOffset.UtcNow };
            db.Models.Add(model);
        }
        model.Kind = manifest.Kind;
        model.Family = manifest.Family;
        model.Resolution = manifest.Resolution;
        model.Labels = manifest.Labels ?? [];
        model.AgeGroups = manifest.AgeGroups ?? [];
        model.Description = manifest.Description;
        if (manifest.IsDefault)
        {
            await db.Models.Where(m => m.Kind == manifest.Kind && m.Name != manifest.Name && m.IsDefault)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.IsDefault, false), ct);
            model.IsDefault = true;
        }

        // Versions are immutable: each one's weights are copied to a content-addressed path, so retraining into
        // models/<name>/ never changes (or breaks) a version that jobs already name.
        var stored = Path.Combine(Path.GetFullPath(storage.Value.Root), "models", manifest.Name, sha + ".safetensors");
        if (!File.Exists(stored))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(stored)!);
            var tmp = stored + ".tmp";
            File.Copy(weightsPath, tmp, overwrite: true);
            File.Move(tmp, stored, overwrite: true);
        }

        var version = await db.ModelVersions.FirstOrDefaultAsync(v => v.ModelName == manifest.Name && v.Sha256 == sha, ct);
        if (version is null)
        {
            version = new ModelVersion
            {
                Id = Guid.NewGuid(),
                ModelName = manifest.Name,
                Version = sha[..12],
                Sha256 = sha,
                WeightsPath = stored,
                Config = manifest.Config.GetRawText(),
                CreatedAt = DateTimeOffset.UtcNow,
            };
            db.ModelVersions.Add(version);
            log.LogInformation("Model {Model} version {Version} registered from {Weights}", manifest.Name, version.Version, weightsPath);
        }
        version.WeightsPath = stored;
        version.Config = manifest.Config.GetRawText();
        if (metrics is not null) version.Metrics = metrics;
        model.CurrentVersionId = version.Id;
        await db.SaveChangesAsync(ct);
        return version;
    }
}
