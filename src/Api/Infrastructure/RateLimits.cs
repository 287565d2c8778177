using System.Globalization;
using System.Threading.RateLimiting;
using GanService.Api.Auth;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace GanService.Api.Infrastructure;

/// <summary>
/// Per-API-key token buckets on every authenticated request (Api:RateLimitPerSecond sustained, Api:RateLimitBurst at
/// once). A refused request gets 429 problem+json with Retry-After; anonymous routes (health, signed files) are not
/// limited here.
/// </summary>
public static class RateLimits
{
    public static IServiceCollection AddGanRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                if (http.User.Identity?.IsAuthenticated != true) return RateLimitPartition.GetNoLimiter("anonymous");
                var options = http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
                return RateLimitPartition.GetTokenBucketLimiter(http.User.KeyId().ToString(), _ => Bucket(options));
            });
            o.OnRejected = async (context, ct) =>
            {
                var http = context.HttpContext;
                double seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? Math.Max(1, Math.Ceiling(retry.TotalSeconds)) : 1;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"This API key is limited to {http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.RateLimitPerSecond:0.##} requests per second; retry after {seconds} s.",
                    },
                });
            };
        });
        return services;
    }

    private static TokenBucketRateLimiterOptions Bucket(ApiOptions options)
    {
        // Refill in tenths of a second at high rates, one token at a time at low ones.
        var (period, tokens) = options.RateLimitPerSecond >= 10
            ? (TimeSpan.FromMilliseconds(100), (int)Math.Round(options.RateLimitPerSecond / 10))
            : (TimeSpan.FromSeconds(1 / options.RateLimitPerSecond), 1);
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.RateLimitBurst,
            TokensPerPeriod = Math.Max(1, tokens),
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }
}
