using System.Text.Json;

namespace GanService.Models.StackGan;

/// <summary>
/// A StackGAN model folder: stage1.safetensors and stage2.safetensors with the configs they were trained with in
/// training-stage1.json and training-stage2.json (written by <c>train-stackgan</c>; <c>settings.config</c>).
/// </summary>
public static class StackGanFiles
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static StageOneConfig StageOneConfig(string dir) => ReadConfig<StageOneConfig>(dir, 1);

    public static StageTwoConfig StageTwoConfig(string dir) => ReadConfig<StageTwoConfig>(dir, 2);

    /// <summary>Stage-I's generator from <paramref name="dir"/>, on the CPU, in eval mode.</summary>
    public static StageOneGenerator LoadStageOne(string dir)
    {
        var g = new StageOneGenerator(StageOneConfig(dir));
        Weights.Load(g, Path.Combine(dir, "stage1.safetensors"));
        g.eval();
        return g;
    }

    /// <summary>Stage-II's generator from <paramref name="dir"/>, on the CPU, in eval mode.</summary>
    public static StageTwoGenerator LoadStageTwo(string dir)
    {
        var g = new StageTwoGenerator(StageTwoConfig(dir));
        Weights.Load(g, Path.Combine(dir, "stage2.safetensors"));
        g.eval();
        return g;
    }

    private static T ReadConfig<T>(string dir, int stage)
    {
        string path = Path.Combine(dir, $"training-stage{stage}.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: train Stage-{(stage == 1 ? "I" : "II")} first (train-stackgan --stage {stage}).", path);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var config = doc.RootElement.GetProperty("settings").GetProperty("config");
        return config.Deserialize<T>(Json) ?? throw new InvalidDataException($"{path} has no settings.config.");
    }
}
