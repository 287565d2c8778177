using GanService.Core.Models;
using GanService.Models;
using GanService.Workers.Inference;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>sample-grid</c>: a grid of samples through the same sampler the worker uses. A conditional model gets one row
/// per label with seeds 0..N−1; an unconditional one <c>--rows</c> rows of consecutive seeds; a text-to-image model one
/// row per prompt of <c>--prompts</c> ("|"-separated) with seeds 0..N−1.
/// </summary>
public static class SampleGridCommand
{
    public static int Run(CliArgs args)
    {
        string modelDir = args.String("model", "models/dcgan-fashion");
        var manifest = ModelManifest.Read(Path.Combine(modelDir, "model.json"));
        string outPath = args.String("out", $"docs/{manifest.Name}-samples.png");
        int perRow = args.Int("per-label", args.Int("per-row", 10)), rows = args.Int("rows", 8);
        set_num_threads(args.Int("threads", 2));
        if (manifest.Family == "stackgan")
        {
            var prompts = args.String("prompts", "red apple|green heart|thumbs up: dark skin tone|smiling face with hearts|blue car|pizza|cat face|umbrella with rain drops")
                .Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            using var model = GanService.Models.StackGan.StackGanModel.Load(manifest.Config.GetRawText(), Path.Combine(modelDir, manifest.Weights));
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
            File.WriteAllBytes(outPath, SampleGrid.Render(model, prompts, perRow, args.Int("scale", 2)));
            Console.WriteLine($"wrote {outPath}: {prompts.Length} rows ({string.Join(" | ", prompts)}) × seeds 0..{perRow - 1}");
            return 0;
        }
        using var g = IImageGenerator.Load(manifest.Family, manifest.Config.GetRawText(), Path.Combine(modelDir, manifest.Weights));
        g.Prepare(CPU);
        var png = SampleGrid.Render(g, CPU, rows, perRow, args.Int("scale", 2));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        File.WriteAllBytes(outPath, png);
        Console.WriteLine(g.NumClasses > 0
            ? $"wrote {outPath}: {g.NumClasses} rows ({string.Join(", ", manifest.Labels ?? [])}) × seeds 0..{perRow - 1}"
            : $"wrote {outPath}: seeds 0..{rows * perRow - 1}, {perRow} per row");
        return 0;
    }
}
