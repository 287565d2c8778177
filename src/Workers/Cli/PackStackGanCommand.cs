using System.Text.Json;
using GanService.Core.Jobs;
using GanService.Core.Models;
using GanService.Models;
using GanService.Models.StackGan;
using GanService.Models.Text;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>pack-stackgan</c>: makes the served model folder --out (default models/stackgan-emoji) from train-stackgan's
/// folder --stages (stage1.safetensors, optionally stage2.safetensors, and their training-stage*.json) and the caption
/// encoder --encoder (default models/emoji-text-encoder): one stackgan.safetensors holding the encoder, the vocabulary
/// and both stages, and model.json (kind text-to-image). <c>--stage-one-only</c> leaves Stage-II out. The training
/// records and samples are copied beside them. <c>--extract-stage-one DIR</c> does the reverse for Stage-I: it writes the
/// packed model's (--out's) Stage-I to DIR as train-stackgan reads it (stage1.safetensors, training-stage1.json), so a
/// Stage-II run can start from the shipped Stage-I.
/// </summary>
public static class PackStackGanCommand
{
    public static int Run(CliArgs args)
    {
        string stages = args.String("stages", "models/stackgan-emoji");
        string encoderDir = args.String("encoder", "models/emoji-text-encoder");
        string outDir = args.String("out", "models/stackgan-emoji");
        if (args.Optional("extract-stage-one") is { } extractTo) return ExtractStageOne(outDir, extractTo);
        var encoder = CaptionEncoderFiles.Load(encoderDir);
        using var stageOne = StackGanFiles.LoadStageOne(stages);
        bool withTwo = !args.Flag("stage-one-only") && File.Exists(Path.Combine(stages, "stage2.safetensors"));
        using var stageTwo = withTwo ? StackGanFiles.LoadStageTwo(stages) : null;
        using var model = StackGanModel.From(encoder, stageOne, stageTwo, "cl100k_base (Microsoft.ML.Tokenizers 2.0.1), pieces of the training captions");
        Directory.CreateDirectory(outDir);
        var sha = Weights.Save(model, Path.Combine(outDir, "stackgan.safetensors"));
        if (Path.GetFullPath(stages) != Path.GetFullPath(outDir))
            foreach (var name in withTwo ? new[] { "training-stage1.json", "samples-stage1.png", "training-stage2.json", "samples-stage2.png" }
                         : ["training-stage1.json", "samples-stage1.png"])
                if (File.Exists(Path.Combine(stages, name)))
                    File.Copy(Path.Combine(stages, name), Path.Combine(outDir, name), overwrite: true);
        var manifest = new ModelManifest(
            Name: Path.GetFileName(Path.GetFullPath(outDir).TrimEnd('/')),
            Kind: JobKinds.TextToImage,
            Family: "stackgan",
            IsDefault: true,
            Resolution: model.ImageSize,
            Labels: null,
            Description: "StackGAN (Zhang et al. 2016) trained by GanService on captioned Fluent 3D emoji: a caption encoder we trained with an " +
                         "image–text matching objective, conditioning augmentation, Stage-I at 64×64" +
                         (withTwo ? $" and Stage-II at {model.ImageSize}×{model.ImageSize}." : " (no Stage-II in this version: outputs are 64×64)."),
            Weights: "stackgan.safetensors",
            Config: JsonSerializer.SerializeToElement(model.Config, ModelManifest.Json),
            Dataset: "captions",
            TrainCommand: "GanService.Workers train-stackgan --stage 1; " +
                          (withTwo ? $"GanService.Workers train-stackgan --stage 2 --size {model.ImageSize}; GanService.Workers pack-stackgan " : "GanService.Workers pack-stackgan --stage-one-only ") +
                          "(training-stage*.json hold each run's exact command)");
        File.WriteAllText(Path.Combine(outDir, "model.json"), JsonSerializer.Serialize(manifest, ModelManifest.Json) + "\n");
        Console.WriteLine($"wrote {outDir}: stackgan.safetensors (sha256 {sha[..12]}), {(withTwo ? "Stage-I and Stage-II" : "Stage-I only")}, final images {model.ImageSize} px");
        return 0;
    }

    private static int ExtractStageOne(string modelDir, string dir)
    {
        var manifest = ModelManifest.Read(Path.Combine(modelDir, "model.json"));
        using var model = StackGanModel.Load(manifest.Config.GetRawText(), Path.Combine(modelDir, manifest.Weights));
        Directory.CreateDirectory(dir);
        var sha = Weights.Save(model.StageOne, Path.Combine(dir, "stage1.safetensors"));
        File.Copy(Path.Combine(modelDir, "training-stage1.json"), Path.Combine(dir, "training-stage1.json"), overwrite: true);
        Console.WriteLine($"wrote {dir}: Stage-I of {manifest.Name} (stage1.safetensors sha256 {sha[..12]}) and its training-stage1.json");
        return 0;
    }
}
