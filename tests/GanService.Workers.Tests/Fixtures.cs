using System.Text.Json;
using GanService.Core.Data;
using GanService.Models;
using GanService.Models.Dcgan;
using GanService.Models.Layers;
using GanService.Workers.Inference;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;
using Generator = GanService.Models.Dcgan.Generator;

namespace GanService.Workers.Tests;

/// <summary>Model versions backed by freshly initialised Fashion32 generators saved to a temp folder.</summary>
public sealed class TempModels : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("ganservice-workers-").FullName;

    public ModelVersion Create(string name, long seed)
    {
        manual_seed(seed);
        using var g = new Generator(DcganConfig.Fashion32);
        Init.Dcgan(g);
        return Saved(name, g, DcganConfig.Fashion32);
    }

    /// <summary>A small untrained 32×32 RGB ProGAN generator, saved like a shipped model.</summary>
    public ModelVersion CreateProGan(string name, long seed)
    {
        manual_seed(seed);
        var config = new GanService.Models.ProGan.ProGanConfig(FinalResolution: 32, Channels: 3, LatentDim: 16, FmapBase: 64, FmapMax: 16);
        using var g = new GanService.Models.ProGan.ProGanGenerator(config);
        return Saved(name, g, config);
    }

    /// <summary>A tiny untrained StackGAN bundle (encoder, four-piece vocabulary, Stage-I, and Stage-II when asked).</summary>
    public ModelVersion CreateStackGan(string name, long seed, bool withStageTwo)
    {
        manual_seed(seed);
        var pieces = GanService.Models.Text.CaptionTokenizer.PieceIds("red apple green heart").Distinct().Take(4).ToList();
        var encoder = new GanService.Models.Text.CaptionEncoderFiles(new GanService.Models.Text.CaptionTokenizer(pieces, 6),
            new GanService.Models.Text.TextEncoder(new GanService.Models.Text.TextEncoderConfig(pieces.Count + 2, MaxTokens: 6, EmbedDim: 8, Hidden: 16, TextDim: 12)));
        using var stageOne = new GanService.Models.StackGan.StageOneGenerator(new(TextDim: 12, CondDim: 6, LatentDim: 8, Ngf: 8, Ndf: 8));
        using var stageTwo = withStageTwo ? new GanService.Models.StackGan.StageTwoGenerator(new(TextDim: 12, CondDim: 6, ImageSize: 128, Ngf: 16, Ndf: 8, ResidualBlocks: 1)) : null;
        using var model = GanService.Models.StackGan.StackGanModel.From(encoder, stageOne, stageTwo, "test");
        return Saved(name, model, model.Config);
    }

    /// <summary>Saves <paramref name="g"/>'s weights and describes them as a model version, as the registry does.</summary>
    private ModelVersion Saved(string name, TorchSharp.torch.nn.Module g, object config)
    {
        var path = Path.Combine(directory, $"{name}.safetensors");
        var sha = Weights.Save(g, path);
        return new ModelVersion
        {
            Id = Guid.NewGuid(), ModelName = name, Version = sha[..12], Sha256 = sha, WeightsPath = path,
            Config = JsonSerializer.Serialize(config, new JsonSerializerOptions(JsonSerializerDefaults.Web)),
        };
    }

    public static IOptions<WorkerOptions> Options(Action<WorkerOptions>? configure = null)
    {
        var o = new WorkerOptions { Device = "cpu", TorchThreads = 1 };
        configure?.Invoke(o);
        return Microsoft.Extensions.Options.Options.Create(o);
    }

    public static ModelCache Cache(IOptions<WorkerOptions> options) => new(options, NullLogger<ModelCache>.Instance);

    public static InferenceExecutor Executor(IOptions<WorkerOptions> options, ModelCache cache) =>
        new(options, cache, NullLogger<InferenceExecutor>.Instance);

    public void Dispose() => Directory.Delete(directory, recursive: true);
}

/// <summary>Where the checkout is, for tests that run the worker's commands as processes.</summary>
public static class Repo
{
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GanService.sln"))) return dir.FullName;
        throw new InvalidOperationException("GanService.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The Debug build of the worker that ./test.sh makes.</summary>
    public static string WorkerDll() => Path.Combine(Root(), "artifacts", "bin", "GanService.Workers", "debug", "GanService.Workers.dll");
}
