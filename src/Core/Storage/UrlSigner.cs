using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace GanService.Core.Storage;

/// <summary>Signed, expiring links to blobs: HMAC-SHA256 over "key\nexpiry", base64url.</summary>
public sealed class UrlSigner
{
    private readonly byte[] secret;
    private readonly TimeSpan ttl;
    private readonly TimeProvider clock;

    public UrlSigner(IOptions<StorageOptions> options, TimeProvider clock)
    {
        var key = options.Value.SigningKey;
        if (string.IsNullOrWhiteSpace(key) || key.Length < 32)
            throw new InvalidOperationException("Storage:SigningKey must be set to at least 32 characters.");
        secret = Encoding.UTF8.GetBytes(key);
        ttl = TimeSpan.FromSeconds(options.Value.LinkTtlSeconds);
        this.clock = clock;
    }

    public const string FilesPrefix = "/files/";

    public string Sign(string key)
    {
        long exp = clock.GetUtcNow().Add(ttl).ToUnixTimeSeconds();
        return $"{FilesPrefix}{key}?exp={exp}&sig={Signature(key, exp)}";
    }

    public enum Verdict { Valid, BadSignature, Expired }

    public Verdict Verify(string key, long exp, string? sig)
    {
        if (sig is null) return Verdict.BadSignature;
        var expected = Encoding.ASCII.GetBytes(Signature(key, exp));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(sig))) return Verdict.BadSignature;
        return clock.GetUtcNow().ToUnixTimeSeconds() > exp ? Verdict.Expired : Verdict.Valid;
    }

    public DateTimeOffset Now => clock.GetUtcNow();

    public TimeSpan Ttl => ttl;

    private string Signature(string key, long exp)
    {
        var mac = HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes($"{key}\n{exp}"));
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
