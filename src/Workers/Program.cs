using GanService.Core;
using GanService.Workers;
using GanService.Workers.Cli;
using Serilog;

// Verbs: (none) or run → the worker host; migrate, keys → database tools; train-dcgan, eval-dcgan, sample-grid → model tools.
var verb = args.FirstOrDefault() ?? "run";
var rest = args.Length > 0 ? args[1..] : [];
switch (verb)
{
    case "train-dcgan": return TrainDcganCommand.Run(CliArgs.Parse(rest));
    case "sample-grid": return SampleGridCommand.Run(CliArgs.Parse(rest));
    case "eval-dcgan": return EvalDcganCommand.Run(CliArgs.Parse(rest));
    case "migrate" or "keys":
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.AddWorkerLogging();
        builder.Services.AddGanCore(builder.Configuration);
        using var host = builder.Build();
        return verb == "migrate"
            ? await MigrateCommand.RunAsync(host.Services)
            : await KeysCommand.RunAsync(host.Services, CliArgs.Parse(rest));
    }
    case "run":
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = rest, ContentRootPath = AppContext.BaseDirectory });
        builder.AddWorkerLogging().AddWorkerServices();
        using var host = builder.Build();
        try
        {
            await host.RunAsync();
        }
        catch (OperationCanceledException)
        {
            // SIGTERM during start-up or a shutdown that outlived Hangfire's timeout: jobs still held are re-fetched
            // by another worker once their invisibility timeout passes.
        }
        return 0;
    }
    default:
        Console.Error.WriteLine("usage: GanService.Workers [run|migrate|keys|train-dcgan|eval-dcgan|sample-grid] [options]");
        return 2;
}
