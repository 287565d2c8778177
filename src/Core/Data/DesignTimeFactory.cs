using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace GanService.Core.Data;

/// <summary>Lets `dotnet ef migrations add` build the model without a running database.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<GanDbContext>
{
    public GanDbContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<GanDbContext>();
        Database.Configure(builder, "Host=localhost;Database=design");
        return new GanDbContext(builder.Options);
    }
}
