using GanService.Core.Auth;
using GanService.Core.Data;
using GanService.Core.Models;
using GanService.Core.Queue;
using GanService.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GanService.Core;

public static class Extensions
{
    public static string PostgresConnectionString(this IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres")
        ?? throw new InvalidOperationException("ConnectionStrings:Postgres (env ConnectionStrings__Postgres) is not set.");

    /// <summary>
    /// Where Hangfire keeps its queue: <c>ConnectionStrings:Queue</c> when set (a separate database or server, so queue
    /// traffic and job results stop sharing one Postgres; see README "Capacity"), else the service's own database.
    /// </summary>
    public static string QueueConnectionString(this IConfiguration configuration) =>
        configuration.GetConnectionString("Queue") is { Length: > 0 } queue ? queue : configuration.PostgresConnectionString();

    /// <summary>What both processes need: the database, the blob store, signed links, options.</summary>
    public static IServiceCollection AddGanCore(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.PostgresConnectionString();
        services.AddDbContextPool<GanDbContext>(o => Database.Configure(o, connectionString));
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, SelfValidatingOptions<StorageOptions>>();
        services.AddOptions<QueueOptions>().BindConfiguration(QueueOptions.Section)
            .Validate(o => o.InvisibilityTimeoutSeconds > 0 && o.PollIntervalSeconds > 0 && o.KeepAliveSeconds >= 0, "Queue timeouts must be positive (KeepAliveSeconds: 0 or more).").ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<FileBlobStore>();
        services.AddSingleton<S3BlobStore>();
        services.AddSingleton<IBlobStore>(sp => sp.GetRequiredService<IOptions<StorageOptions>>().Value.IsS3
            ? sp.GetRequiredService<S3BlobStore>() : sp.GetRequiredService<FileBlobStore>());
        services.AddSingleton<UrlSigner>();
        services.AddSingleton<BlobLinks>();
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section);
        services.AddOptions<Datasets.DatasetOptions>().BindConfiguration(Datasets.DatasetOptions.Section);
        services.AddScoped<ModelRegistry>();
        services.AddScoped<ApiKeyStore>();
        services.AddOptions<Webhooks.WebhookOptions>().BindConfiguration(Webhooks.WebhookOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Webhooks.WebhookOptions>, SelfValidatingOptions<Webhooks.WebhookOptions>>();
        services.AddSingleton<Webhooks.WebhookTargets>();
        services.AddOptions<Jobs.UploadOptions>().BindConfiguration(Jobs.UploadOptions.Section)
            .Validate(o => o.MaxBytes > 0 && o.MaxSide > 0 && o.MaxPixels > 0, "Uploads limits must be positive.").ValidateOnStart();
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section)
            .Validate(o => o.OutputSeconds >= 0 && o.SweepSeconds is >= 1 and <= 86_400, "Retention:OutputSeconds must be ≥ 0 and Retention:SweepSeconds 1..86400.")
            .ValidateOnStart();
        return services;
    }
}
