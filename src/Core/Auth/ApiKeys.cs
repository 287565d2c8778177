using System.Security.Cryptography;
using System.Text;

namespace GanService.Core.Auth;

public static class Scopes
{
    public const string Jobs = "jobs";
    public const string Admin = "admin";
    public static IReadOnlyList<string> All { get; } = [Jobs, Admin];
}

/// <summary>API key format and hashing: keys look like <c>gsk_</c> + 32 base62 characters.</summary>
public static class ApiKeyFormat
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string NewKey() => "gsk_" + RandomNumberGenerator.GetString(Alphabet, 32);

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static string PrefixOf(string key) => key.Length <= 8 ? key : key[..8];
}

public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>When set, this key exists with every scope at start-up.</summary>
    public string? BootstrapKey { get; set; }
}
