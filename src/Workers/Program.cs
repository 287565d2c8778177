using GanService.Core;
using GanService.Workers;
using GanService.Workers.Cli;
using Serilog;

// Verbs: (none) or run → the worker host; migrate, keys → database tools; device → what libtorch/CUDA this machine offers; train-dcgan, train-progan, train-caae, eval-caae, train-vgan, eval-vgan, train-text-encoder, train-stackgan, eval-stackgan, pack-stackgan, eval-dcgan, sample-grid → model tools.
var verb = args.FirstOrDefault() ?? "run";
GanService.Workers.LibTorchPath.EnsureOnLibraryPath();
var rest = args.Length > 0 ? args[1..] : [];
if (verb is not ("migrate" or "keys" or "export")) LibTorchPath.DisableNnpack();
switch (verb)
{
    case "device":
    {
        // What this machine offers: which libtorch loaded, whether CUDA is usable, how many devices.
        bool cudaOk = TorchSharp.torch.cuda.is_available();
        using var probe = TorchSharp.torch.ones(2, 2);
        Console.WriteLine($"libtorch: {LibTorchPath.LoadedFrom() ?? "(not found in /proc/self/maps)"}");
        Console.WriteLine($"LD_LIBRARY_PATH: {Environment.GetEnvironmentVariable("LD_LIBRARY_PATH")}");
        Console.WriteLine($"cuda available: {cudaOk}, devices: {(cudaOk ? TorchSharp.torch.cuda.device_count() : 0)}, cpu threads: {TorchSharp.torch.get_num_threads()}");
        return 0;
    }
    case "train-dcgan": return TrainDcganCommand.Run(CliArgs.Parse(rest));
    case "train-progan": return TrainProGanCommand.Run(CliArgs.Parse(rest));
    case "train-caae": return TrainCaaeCommand.Run(CliArgs.Parse(rest));
    case "eval-caae": return EvalCaaeCommand.Run(CliArgs.Parse(rest));
    case "train-vgan": return TrainVganCommand.Run(CliArgs.Parse(rest));
    case "eval-vgan": return EvalVganCommand.Run(CliArgs.Parse(rest));
    case "train-text-encoder": return TrainTextEncoderCommand.Run(CliArgs.Parse(rest));
    case "train-stackgan": return TrainStackGanCommand.Run(CliArgs.Parse(rest));
    case "eval-stackgan": return EvalStackGanCommand.Run(CliArgs.Parse(rest));
    case "pack-stackgan": return PackStackGanCommand.Run(CliArgs.Parse(rest));
    case "sample-grid": return SampleGridCommand.Run(CliArgs.Parse(rest));
    case "eval-dcgan": return EvalDcganCommand.Run(CliArgs.Parse(rest));
    case "eval": return EvalCommand.Run(CliArgs.Parse(rest));
    case "migrate" or "keys" or "import" or "export":
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.AddWorkerLogging();
        builder.Services.AddGanCore(builder.Configuration);
        using var host = builder.Build();
        return verb switch
        {
            "migrate" => await MigrateCommand.RunAsync(host.Services),
            "import" => await ImportExportCommands.ImportAsync(host.Services, CliArgs.Parse(rest)),
            "export" => await ImportExportCommands.ExportAsync(host.Services, CliArgs.Parse(rest)),
            _ => await KeysCommand.RunAsync(host.Services, CliArgs.Parse(rest)),
        };
    }
    case "run":
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = rest, ContentRootPath = AppContext.BaseDirectory });
        builder.AddWorkerLogging().AddWorkerServices();
        using var host = builder.Build();
        ThreadPoolMinimum.Raise(host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WorkerOptions>>().Value.MinThreads);
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
        Console.Error.WriteLine("usage: GanService.Workers [run|migrate|keys|import|export|device|train-dcgan|train-progan|train-caae|eval-caae|train-vgan|eval-vgan|train-text-encoder|train-stackgan|eval-stackgan|pack-stackgan|eval|eval-dcgan|sample-grid] [options]");
        return 2;
}
