using GanService.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace GanService.Api.Jobs;

/// <summary>A servable model with its current version.</summary>
public sealed record ModelInfo(
    string Name, string Kind, string Family, bool IsDefault, int Resolution, string[] Labels, string? Description,
    Guid VersionId, string Version, string? Metrics, string Config, string Sha256, string[] AgeGroups)
{
    /// <summary>
    /// The model's own spelling of <paramref name="requested"/> (labels match case-insensitively); null, with the
    /// problem added to <paramref name="errors"/> as <c>label</c>, when the model is unconditional or has no such label.
    /// </summary>
    public string? ResolveLabel(string requested, Dictionary<string, string[]> errors)
    {
        var label = Labels.FirstOrDefault(l => string.Equals(l, requested, StringComparison.OrdinalIgnoreCase));
        if (Labels.Length == 0) errors["label"] = [$"Model '{Name}' is unconditional: it takes no label."];
        else if (label is null) errors["label"] = [$"Unknown label '{requested}'. Labels of '{Name}': {string.Join(", ", Labels)}."];
        return label;
    }
}

/// <summary>The registered models, read from Postgres and cached for a few seconds (validation runs on every POST).</summary>
public sealed class ModelCatalog(GanDbContext db, IMemoryCache cache)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);

    public async Task<IReadOnlyList<ModelInfo>> AllAsync(CancellationToken ct) =>
        (await cache.GetOrCreateAsync("models", async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = Ttl;
            var rows = await db.Models.AsNoTracking()
                .Join(db.ModelVersions.AsNoTracking(), m => m.CurrentVersionId, v => v.Id, (m, v) => new { m, v })
                .OrderBy(x => x.m.Kind).ThenBy(x => x.m.Name)
                .ToListAsync(ct);
            return rows.Select(x => new ModelInfo(x.m.Name, x.m.Kind, x.m.Family, x.m.IsDefault, x.m.Resolution, x.m.Labels,
                x.m.Description, x.v.Id, x.v.Version, x.v.Metrics, x.v.Config, x.v.Sha256, x.m.AgeGroups)).ToList();
        }))!;

    /// <summary>Drops the cached list, so a model registered by this process is seen at once.</summary>
    public void Invalidate() => cache.Remove("models");

    /// <summary>
    /// The named model if it is of <paramref name="kind"/> (any kind when null), or that kind's default when no name is given. A name of
    /// the form <c>model@version</c> pins a version: its 12-hex-digit version or its full sha256 (any registered
    /// version of the model, not only the current one).
    /// </summary>
    public async Task<ModelInfo?> ResolveAsync(string? name, string? kind, CancellationToken ct)
    {
        var all = await AllAsync(ct);
        if (name is null) return all.FirstOrDefault(m => m.Kind == kind && m.IsDefault) ?? all.FirstOrDefault(m => m.Kind == kind);
        int at = name.IndexOf('@');
        var model = all.FirstOrDefault(m => (kind is null || m.Kind == kind) && string.Equals(m.Name, at < 0 ? name : name[..at], StringComparison.OrdinalIgnoreCase));
        if (model is null || at < 0) return model;
        var pin = name[(at + 1)..].ToLowerInvariant();
        if (pin.Length is not (12 or 64) || !pin.All(Uri.IsHexDigit)) return null;
        var version = await db.ModelVersions.AsNoTracking()
            .Where(v => v.ModelName == model.Name && (pin.Length == 12 ? v.Version == pin : v.Sha256 == pin))
            .Select(v => new { v.Id, v.Version, v.Metrics, v.Config, v.Sha256 })
            .FirstOrDefaultAsync(ct);
        return version is null ? null : model with { VersionId = version.Id, Version = version.Version, Metrics = version.Metrics, Config = version.Config, Sha256 = version.Sha256 };
    }
}
