using System.Text.Json.Serialization;
using GanService.Api.Auth;
using GanService.Api.Infrastructure;
using GanService.Api.Jobs;
using GanService.Core;
using GanService.Core.Auth;
using GanService.Core.Jobs;
using GanService.Core.Queue;
using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Serilog;

namespace GanService.Api;

public static class Extensions
{
    public static WebApplicationBuilder AddApiLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, lc) => lc.ConfigureGan(builder.Configuration, "api"));
        return builder;
    }

    public static WebApplicationBuilder AddApiServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddGanCore(configuration);
        services.AddApiTelemetry(configuration);
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section)
            .Validate(o => o.MaxBodyBytes > 0 && o.MaxWaitSeconds is >= 0 and <= 300, "Api limits out of range.")
            .Validate(o => o.RateLimitPerSecond is > 0 and <= 1_000_000 && o.RateLimitBurst is >= 1 and <= 1_000_000 && o.MaxQueuedJobsPerKey >= 0,
                "Api:RateLimitPerSecond, Api:RateLimitBurst and Api:MaxQueuedJobsPerKey out of range.")
            .Validate(o => o.MinThreads is >= 0 and <= 4096, "Api:MinThreads must be between 0 and 4096.")
            .ValidateOnStart();

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            // A misspelt field ("lable") is an error the client should hear about, not a silent default.
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            // The Web defaults read "3" as 3; a number sent as a string is a client bug worth a 400.
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();

        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Jobs, p => p.RequireClaim(ApiKeyAuthenticationHandler.ScopeClaim, Scopes.Jobs, Scopes.Admin))
            .AddPolicy(Policies.Admin, p => p.RequireClaim(ApiKeyAuthenticationHandler.ScopeClaim, Scopes.Admin));
        services.AddHostedService<BootstrapKeyService>();
        services.AddMemoryCache();
        services.AddHttpContextAccessor();

        var queueOptions = configuration.GetSection(QueueOptions.Section).Get<QueueOptions>() ?? new QueueOptions();
        services.AddHangfire(c => c.UseGanStorage(configuration.QueueConnectionString(), queueOptions));
        services.AddScoped<IJobQueue, HangfireJobQueue>();
        services.AddScoped<JobSubmitter>();
        services.AddScoped<JobReader>();
        services.AddScoped<JobViews>();
        services.AddScoped<ModelCatalog>();
        services.AddSingleton<JobWaiter>();
        services.AddHostedService(sp => sp.GetRequiredService<JobWaiter>());

        services.AddGanRateLimits();
        services.AddGanHealthChecks(configuration);
        services.AddGanOpenApi();
        return builder;
    }

    /// <summary>Raises the thread pool's minimum to <see cref="ApiOptions.MinThreads"/> (never lowers it).</summary>
    public static WebApplication RaiseThreadPoolMinimum(this WebApplication app)
    {
        GanService.Core.ThreadPoolMinimum.Raise(app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApiOptions>>().Value.MinThreads);
        return app;
    }
}
