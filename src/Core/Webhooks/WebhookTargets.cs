using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace GanService.Core.Webhooks;

/// <summary>
/// Where a webhook may go. A target is refused when its host is outside Webhooks:AllowedHosts (if set), or when the
/// address it resolves to is loopback, private, link-local (the cloud metadata endpoint 169.254.169.254 among them),
/// shared, multicast or reserved and not inside Webhooks:AllowedNetworks. The Api checks at submit, for a clear 422;
/// the workers check again at every connection, on the address actually dialled, so a name that resolves differently
/// later (DNS rebinding) still cannot reach the service's own network. Redirects are never followed.
/// </summary>
public sealed class WebhookTargets
{
    public const int MaxUrlLength = 2048;

    private static readonly (IPNetwork Network, string What)[] Internal =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "an unspecified address"),
        (IPNetwork.Parse("10.0.0.0/8"), "a private address"),
        (IPNetwork.Parse("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address"),
        (IPNetwork.Parse("172.16.0.0/12"), "a private address"),
        (IPNetwork.Parse("192.0.0.0/24"), "a reserved address"),
        (IPNetwork.Parse("192.0.2.0/24"), "a documentation address"),
        (IPNetwork.Parse("192.168.0.0/16"), "a private address"),
        (IPNetwork.Parse("198.18.0.0/15"), "a benchmarking address"),
        (IPNetwork.Parse("198.51.100.0/24"), "a documentation address"),
        (IPNetwork.Parse("203.0.113.0/24"), "a documentation address"),
        (IPNetwork.Parse("224.0.0.0/4"), "a multicast address"),
        (IPNetwork.Parse("240.0.0.0/4"), "a reserved address"),
        (IPNetwork.Parse("::/128"), "an unspecified address"),
        (IPNetwork.Parse("::1/128"), "a loopback address"),
        // IPv6 forms that carry an IPv4 address (IPv4-compatible, NAT64, 6to4, Teredo) could reach an internal
        // IPv4 network through a translator: refused whole rather than unwrapped.
        (IPNetwork.Parse("::/96"), "an IPv4-compatible address"),
        (IPNetwork.Parse("64:ff9b::/96"), "a NAT64 address"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "a NAT64 address"),
        (IPNetwork.Parse("2002::/16"), "a 6to4 address"),
        (IPNetwork.Parse("2001::/32"), "a Teredo address"),
        (IPNetwork.Parse("fc00::/7"), "a private (unique local) address"),
        (IPNetwork.Parse("fe80::/10"), "a link-local address"),
        (IPNetwork.Parse("fec0::/10"), "a site-local address"),
        (IPNetwork.Parse("ff00::/8"), "a multicast address"),
        (IPNetwork.Parse("2001:db8::/32"), "a documentation address"),
    ];

    private readonly IReadOnlyList<IPNetwork> allowedNetworks;
    private readonly IReadOnlyList<string> allowedHosts;

    public WebhookTargets(IOptions<WebhookOptions> options)
    {
        allowedNetworks = ParseNetworks(options.Value.AllowedNetworks);
        allowedHosts = options.Value.AllowedHosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(h => h.ToLowerInvariant()).ToList();
    }

    public static IReadOnlyList<IPNetwork> ParseNetworks(string networks) =>
        networks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => IPNetwork.TryParse(n.Contains('/') ? n : n + (n.Contains(':') ? "/128" : "/32"), out var net)
                ? net : throw new FormatException($"Webhooks:AllowedNetworks: '{n}' is not a network in CIDR notation."))
            .ToList();

    /// <summary>Why the address is internal ("a loopback address"), or null for a public one.</summary>
    public static string? InternalKind(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var (network, what) in Internal)
            if (network.Contains(address)) return what;
        return null;
    }

    /// <summary>Null when a webhook may connect to the address, else why not.</summary>
    public string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        var kind = InternalKind(address);
        if (kind is null || allowedNetworks.Any(n => n.Contains(address))) return null;
        return $"{address} is {kind}; webhooks may not target internal networks unless Webhooks:AllowedNetworks includes them";
    }

    /// <summary>Checks the URL's form and host without resolving it: null and the parsed URL when it is acceptable.</summary>
    public string? CheckUrl(string url, out Uri? uri)
    {
        uri = null;
        if (url.Length > MaxUrlLength) return $"webhook must be at most {MaxUrlLength} characters.";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            return $"webhook must be an absolute http or https URL, got '{Truncate(url)}'.";
        if (!string.IsNullOrEmpty(parsed.UserInfo)) return "webhook must not carry credentials in the URL; verify deliveries by their signature instead.";
        if (allowedHosts.Count > 0 && !HostAllowed(parsed.IdnHost))
            return $"webhook host '{parsed.Host}' is not in Webhooks:AllowedHosts ({string.Join(", ", allowedHosts)}).";
        if (IPAddress.TryParse(parsed.IdnHost.Trim('[', ']'), out var literal) && Refusal(literal) is { } why)
            return $"webhook refused: {why}.";
        uri = parsed;
        return null;
    }

    /// <summary>Resolves the URL's host (bounded by <paramref name="timeout"/>): null when at least one address may be
    /// reached. A resolver that does not answer in time is not held against the request; delivery checks again.</summary>
    public async Task<string?> CheckResolvedAsync(Uri uri, TimeSpan timeout, CancellationToken ct)
    {
        var host = uri.IdnHost.Trim('[', ']');
        if (IPAddress.TryParse(host, out _)) return null;
        IPAddress[] addresses;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try { addresses = await Dns.GetHostAddressesAsync(host, cts.Token); }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.HostNotFound) { return $"webhook host '{uri.Host}' does not resolve."; }
        catch (SocketException) { return null; }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return null; }
        if (addresses.Length == 0) return $"webhook host '{uri.Host}' does not resolve.";
        if (addresses.Any(a => Refusal(a) is null)) return null;
        // The address itself stays in the server's log: the client need not learn the internal network's layout.
        return $"webhook refused: '{uri.Host}' resolves only to addresses webhooks may not target (loopback, private, link-local or reserved).";
    }

    /// <summary>Opens the connection a delivery uses: resolves, drops refused addresses, dials the rest in order.</summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal)
            ? [literal] : await Dns.GetHostAddressesAsync(endpoint.Host, ct);
        var allowed = addresses.Where(a => Refusal(a) is null).ToList();
        if (allowed.Count == 0)
            throw new HttpRequestException(addresses.Length == 0 ? $"'{endpoint.Host}' does not resolve"
                : $"refused: '{endpoint.Host}' is {InternalKind(addresses[0])}, which webhooks may not target");
        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(address, endpoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }
        throw new HttpRequestException($"could not connect to {endpoint.Host}:{endpoint.Port}: {last!.Message}", last);
    }

    private bool HostAllowed(string host)
    {
        host = host.ToLowerInvariant();
        return allowedHosts.Any(a => a.StartsWith("*.", StringComparison.Ordinal) ? host.EndsWith(a[1..], StringComparison.Ordinal) : host == a);
    }

    private static string Truncate(string s) => s.Length <= 100 ? s : s[..100] + "…";
}
