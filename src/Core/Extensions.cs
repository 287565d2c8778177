using GanService.Core.Auth;
using GanService.Core.Data;
using GanService.Core.Models;
using GanService.Core.Queue;
using GanService.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GanService.Core;

public static class Extensions
{
    public static string PostgresConnectionString(this IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres")
        ?? throw new InvalidOperationException("ConnectionStrings:Postgres (env ConnectionStrings__Postgres) is not set.");

    /// <summary>What both processes need: the database, the blob store, signed links, options.</summary>
    public static IServiceCollection AddGanCore(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.PostgresConnectionString();
        services.AddDbContextPool<GanDbContext>(o => Database.Configure(o, connectionString));
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section)
            .Validate(o => o.SigningKey.Length >= 32, "Storage:SigningKey must be at least 32 characters.").ValidateOnStart();
        services.AddOptions<QueueOptions>().BindConfiguration(QueueOptions.Section)
            .Validate(o => o.InvisibilityTimeoutSeconds > 0 && o.PollIntervalSeconds > 0, "Queue timeouts must be positive.").ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IBlobStore, FileBlobStore>();
        services.AddSingleton<UrlSigner>();
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section);
        services.AddOptions<Datasets.DatasetOptions>().BindConfiguration(Datasets.DatasetOptions.Section);
        services.AddScoped<ModelRegistry>();
        services.AddScoped<ApiKeyStore>();
        services.AddOptions<Webhooks.WebhookOptions>().BindConfiguration(Webhooks.WebhookOptions.Section)
            .Validate(o => o.Validate() is null, "Webhooks settings are invalid (RetrySchedule, AllowedNetworks, TimeoutSeconds, PollMilliseconds, MaxConcurrent).")
            .ValidateOnStart();
        services.AddSingleton<Webhooks.WebhookTargets>();
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section)
            .Validate(o => o.OutputSeconds >= 0 && o.SweepSeconds is >= 1 and <= 86_400, "Retention:OutputSeconds must be ≥ 0 and Retention:SweepSeconds 1..86400.")
            .ValidateOnStart();
        return services;
    }
}
