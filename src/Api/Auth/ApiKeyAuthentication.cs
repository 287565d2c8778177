using System.Security.Claims;
using System.Text.Encodings.Web;
using GanService.Core.Auth;
using GanService.Core.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace GanService.Api.Auth;

/// <summary><c>Authorization: Bearer &lt;api key&gt;</c>, looked up by sha256 (briefly cached), scopes as claims.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    GanDbContext db,
    IMemoryCache cache,
    IOptions<ApiOptions> api) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string ScopeClaim = "scope";

    private sealed record CachedKey(Guid Id, string Name, string[] Scopes, bool Revoked);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header)) return AuthenticateResult.NoResult();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.Fail("The Authorization header must be 'Bearer <api key>'.");
        var hash = ApiKeyFormat.Hash(header[7..].Trim());
        var key = await cache.GetOrCreateAsync("apikey:" + hash, async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(api.Value.ApiKeyCacheSeconds);
            var row = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Hash == hash, Context.RequestAborted);
            return row is null ? null : new CachedKey(row.Id, row.Name, row.Scopes, row.RevokedAt is not null);
        });
        if (key is null || key.Revoked) return AuthenticateResult.Fail("The API key is unknown or revoked.");
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, key.Id.ToString()), new(ClaimTypes.Name, key.Name) };
        claims.AddRange(key.Scopes.Select(s => new Claim(ScopeClaim, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        var failure = Context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Failure?.Message;
        return WriteProblem(StatusCodes.Status401Unauthorized, "Unauthorized",
            failure ?? "Send 'Authorization: Bearer <api key>'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status403Forbidden, "Forbidden", "This API key lacks the scope this operation needs.");

    private Task WriteProblem(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(Context);
}

public static class ApiKeyPrincipal
{
    public static Guid KeyId(this ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!);
}

public static class Policies
{
    public const string Jobs = "jobs";
    public const string Admin = "admin";
}

/// <summary>Makes sure Auth:BootstrapKey exists at start-up, so a fresh install has a key to use.</summary>
public sealed class BootstrapKeyService(IServiceScopeFactory scopes, IOptions<AuthOptions> options, ILogger<BootstrapKeyService> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var key = options.Value.BootstrapKey;
        if (string.IsNullOrWhiteSpace(key)) return;
        using var scope = scopes.CreateScope();
        await scope.ServiceProvider.GetRequiredService<ApiKeyStore>().EnsureBootstrapAsync(key, ct);
        log.LogInformation("Bootstrap API key {Prefix}… active", ApiKeyFormat.PrefixOf(key));
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
