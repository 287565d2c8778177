using GanService.Workers.Cli;

// Verbs: (none) → run the worker host; train-dcgan, eval-dcgan, keys, migrate → command-line tools.
return args.FirstOrDefault() switch
{
    "train-dcgan" => TrainDcganCommand.Run(CliArgs.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: GanService.Workers [train-dcgan|eval-dcgan|keys|migrate] [--option value ...]");
    return 2;
}
