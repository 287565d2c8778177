using System.Collections.Concurrent;
using GanService.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace GanService.Workers.Jobs;

/// <summary>
/// Model versions and their model's labels (and age groups), read once per process: a version is content-addressed by its weights'
/// sha256 and never changes, so every later job for it skips two queries.
/// </summary>
public sealed class VersionCatalog
{
    public sealed record Entry(ModelVersion Version, string Family, string[] Labels, string[] AgeGroups);

    private readonly ConcurrentDictionary<Guid, Entry> entries = new();

    /// <returns>null when the version (or its model) is gone.</returns>
    public async Task<Entry?> GetAsync(GanDbContext db, Guid versionId, CancellationToken ct)
    {
        if (entries.TryGetValue(versionId, out var hit)) return hit;
        var found = await db.ModelVersions.AsNoTracking()
            .Where(v => v.Id == versionId)
            .Join(db.Models.AsNoTracking(), v => v.ModelName, m => m.Name, (v, m) => new { Version = v, m.Family, m.Labels, m.AgeGroups })
            .FirstOrDefaultAsync(ct);
        return found is null ? null : entries.GetOrAdd(versionId, new Entry(found.Version, found.Family, found.Labels, found.AgeGroups));
    }
}
