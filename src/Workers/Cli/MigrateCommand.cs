using GanService.Core.Auth;
using GanService.Core.Data;
using GanService.Core.Models;
using GanService.Core.Queue;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Workers.Cli;

/// <summary>Applies the EF Core migrations, installs Hangfire's schema, registers the shipped models, bootstraps the key.</summary>
public static class MigrateCommand
{
    public static async Task<int> RunAsync(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        var sp = scope.ServiceProvider;
        var log = sp.GetRequiredService<ILogger<MigrateHost>>();
        var db = sp.GetRequiredService<GanDbContext>();
        await db.Database.MigrateAsync();
        log.LogInformation("Database migrated");

        var queue = sp.GetRequiredService<IOptions<QueueOptions>>().Value;
        var config = sp.GetRequiredService<IConfiguration>();
        await using (var connection = new Npgsql.NpgsqlConnection(Core.Extensions.QueueConnectionString(config)))
        {
            await connection.OpenAsync();
            PostgreSqlObjectsInstaller.Install(connection, queue.Schema);
        }
        log.LogInformation("Hangfire schema {Schema} ready", queue.Schema);

        var root = sp.GetRequiredService<IOptions<ModelOptions>>().Value.Root;
        await sp.GetRequiredService<ModelRegistry>().RegisterShippedAsync(root, CancellationToken.None);

        var bootstrap = sp.GetRequiredService<IOptions<AuthOptions>>().Value.BootstrapKey;
        if (!string.IsNullOrWhiteSpace(bootstrap))
        {
            await sp.GetRequiredService<ApiKeyStore>().EnsureBootstrapAsync(bootstrap, CancellationToken.None);
            log.LogInformation("Bootstrap API key {Prefix}… active", ApiKeyFormat.PrefixOf(bootstrap));
        }
        return 0;
    }

    public sealed class MigrateHost;
}
