using GanService.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace GanService.Api.Jobs;

/// <summary>A servable model with its current version.</summary>
public sealed record ModelInfo(
    string Name, string Kind, string Family, bool IsDefault, int Resolution, string[] Labels, string? Description,
    Guid VersionId, string Version, string? Metrics);

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
                x.m.Description, x.v.Id, x.v.Version, x.v.Metrics)).ToList();
        }))!;

    /// <summary>The named model if it is of <paramref name="kind"/>, or that kind's default when no name is given.</summary>
    public async Task<ModelInfo?> ResolveAsync(string? name, string kind, CancellationToken ct)
    {
        var all = await AllAsync(ct);
        return name is null
            ? all.FirstOrDefault(m => m.Kind == kind && m.IsDefault) ?? all.FirstOrDefault(m => m.Kind == kind)
            : all.FirstOrDefault(m => m.Kind == kind && string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
    }
}
