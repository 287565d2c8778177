using GanService.Core.Data;
using GanService.Core.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace GanService.Core.Auth;

/// <summary>Creates, lists, revokes and bootstraps API keys. The key is returned once and only its hash is stored.</summary>
public sealed class ApiKeyStore(GanDbContext db)
{
    public async Task<(ApiKey Row, string Key)> CreateAsync(string name, IEnumerable<string> scopes, CancellationToken ct, string? key = null)
    {
        var scopeList = scopes.Select(s => s.Trim().ToLowerInvariant()).Where(s => s.Length > 0).Distinct().ToArray();
        var unknown = scopeList.Except(Scopes.All).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"Unknown scope(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", Scopes.All)}.");
        key ??= ApiKeyFormat.NewKey();
        var row = new ApiKey
        {
            Id = Guid.NewGuid(),
            Name = name,
            Prefix = ApiKeyFormat.PrefixOf(key),
            Hash = ApiKeyFormat.Hash(key),
            Scopes = scopeList,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        db.ApiKeys.Add(row);
        await db.SaveChangesAsync(ct);
        return (row, key);
    }

    /// <summary>Makes sure the configured bootstrap key exists, active, with every scope.</summary>
    public async Task EnsureBootstrapAsync(string key, CancellationToken ct)
    {
        var hash = ApiKeyFormat.Hash(key);
        var row = await db.ApiKeys.FirstOrDefaultAsync(k => k.Hash == hash, ct);
        if (row is null)
        {
            try
            {
                await CreateAsync("bootstrap", Scopes.All, ct, key);
            }
            catch (DbUpdateException)
            {
                // Another process created it at the same moment.
            }
            return;
        }
        row.Scopes = [.. Scopes.All];
        row.RevokedAt = null;
        await db.SaveChangesAsync(ct);
    }

    public Task<List<ApiKey>> ListAsync(CancellationToken ct) => db.ApiKeys.AsNoTracking().OrderBy(k => k.CreatedAt).ToListAsync(ct);

    /// <summary>The key's webhook signing secret, made on first use; <paramref name="rotate"/> replaces it (deliveries
    /// signed from then on use the new one).</summary>
    public async Task<string> WebhookSecretAsync(Guid keyId, bool rotate, CancellationToken ct)
    {
        // Every delivery attempt asks: a read, and a write only the first time.
        if (!rotate && await db.ApiKeys.Where(k => k.Id == keyId).Select(k => k.WebhookSecret).SingleAsync(ct) is { } existing)
            return existing;
        var fresh = WebhookSignature.NewSecret();
        await db.ApiKeys.Where(k => k.Id == keyId && (rotate || k.WebhookSecret == null))
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.WebhookSecret, fresh), ct);
        return await db.ApiKeys.Where(k => k.Id == keyId).Select(k => k.WebhookSecret!).SingleAsync(ct);
    }

    /// <summary>Revokes by id or by prefix. Returns how many keys were revoked.</summary>
    public Task<int> RevokeAsync(string idOrPrefix, CancellationToken ct)
    {
        var query = Guid.TryParse(idOrPrefix, out var id)
            ? db.ApiKeys.Where(k => k.Id == id)
            : db.ApiKeys.Where(k => k.Prefix == idOrPrefix);
        return query.Where(k => k.RevokedAt == null).ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, DateTimeOffset.UtcNow), ct);
    }
}
