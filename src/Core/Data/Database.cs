using Microsoft.EntityFrameworkCore;

namespace GanService.Core.Data;

public static class Database
{
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, string connectionString) =>
        builder.UseNpgsql(connectionString).UseSnakeCaseNamingConvention();

    /// <summary>Postgres channel on which workers announce job state changes (payload: the job id).</summary>
    public const string JobEventsChannel = "job_events";
}
