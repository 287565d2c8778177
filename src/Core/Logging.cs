using Microsoft.Extensions.Configuration;
using Serilog;

namespace GanService.Core;

public static class Logging
{
    /// <summary>
    /// Both processes log the same way: structured, levels from configuration, the job id (pushed by the Api when it
    /// accepts a job and by the worker when it runs one) on every line.
    /// </summary>
    public static LoggerConfiguration ConfigureGan(this LoggerConfiguration lc, IConfiguration configuration, string process) =>
        lc.ReadFrom.Configuration(configuration)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("Process", process)
            .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Process} {JobId} {Message:lj}{NewLine}{Exception}");
}
