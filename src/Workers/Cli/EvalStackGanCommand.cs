using System.Diagnostics;
using System.Text.Json;
using GanService.Models;
using GanService.Models.Data;
using GanService.Models.StackGan;
using GanService.Models.Text;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>eval-stackgan</c>: scores the packed StackGAN model in --model (default models/stackgan-emoji: model.json and
/// stackgan.safetensors, as pack-stackgan writes them) with the caption matcher in --encoder (default
/// models/emoji-text-encoder): retrieval of generated images by held-out captions and Fréchet distances with their
/// floors (see <see cref="StackGanEvaluation"/>). Writes metrics.json to --model (or --out).
/// </summary>
public static class EvalStackGanCommand
{
    public static int Run(CliArgs args)
    {
        string modelDir = args.String("model", "models/stackgan-emoji");
        string encoderDir = args.String("encoder", "models/emoji-text-encoder");
        set_num_threads(args.Int("threads", 2));
        var clock = Stopwatch.StartNew();
        var encoder = CaptionEncoderFiles.Load(encoderDir);
        using var matcher = new CaptionMatcher(encoder.Encoder.Config);
        Weights.Load(matcher, Path.Combine(encoderDir, "matcher.safetensors"));
        var manifest = GanService.Core.Models.ModelManifest.Read(Path.Combine(modelDir, "model.json"));
        using var model = StackGanModel.Load(manifest.Config.GetRawText(), Path.Combine(modelDir, manifest.Weights));
        var catalog = EmojiCaptions.Catalog(args.String("data", ".data/datasets"));
        var result = StackGanEvaluation.Run(model.StageOne, model.StageTwo, encoder, matcher, catalog, args.OptionalLong("seed") ?? 1);

        void Print(string name, Retrieval r) => Console.WriteLine(
            $"{name}: {r.Queries} captions over {r.Candidates} images: precision@1 {r.PrecisionAt1:P1}, @5 {r.PrecisionAt5:P1}, same emoji @1 {r.SameEmojiAt1:P1}; chance @1 {r.ChanceAt1:P2}");
        void PrintFd(string name, FrechetReport? f, string baseline)
        {
            if (f is not null) Console.WriteLine($"{name}: FD {f.Generated:F2}, real-vs-real floor {f.Floor:F2}, {baseline} {f.Baseline:F2} ({f.Samples} samples each)");
        }
        Print("Stage-I images by held-out captions", result.HeldOutCaptions);
        if (result.HeldOutCaptionsStageTwo is { } two) Print("Stage-II images (at 64 px) by held-out captions", two);
        Print("real held-out images by the same captions (the matcher's ceiling)", result.HeldOutCaptionsRealImages);
        Print("Stage-I images by the held-out phrasing", result.HeldOutPhrasing);
        PrintFd("Stage-I 64 px", result.StageOne, "untrained Stage-I");
        PrintFd("Stage-II reduced to 64 px", result.StageTwoResized, "Stage-I enlarged");
        PrintFd("Stage-II centre crops at full resolution", result.StageTwoCrops, "Stage-I enlarged");
        string outDir = args.String("out", modelDir);
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "metrics.json"), JsonSerializer.Serialize(new
        {
            command = "GanService.Workers eval-stackgan " + string.Join(' ', Environment.GetCommandLineArgs().Skip(2)),
            seconds = Math.Round(clock.Elapsed.TotalSeconds),
            result,
        }, CaptionEncoderFiles.Json) + "\n");
        Console.WriteLine($"wrote {Path.Combine(outDir, "metrics.json")} ({clock.Elapsed.TotalSeconds:F0} s)");
        return 0;
    }
}
