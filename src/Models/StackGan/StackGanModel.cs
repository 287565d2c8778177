using System.Text.Json;
using GanService.Models.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Models.StackGan;

/// <summary>A served StackGAN's sizes (model.json's <c>config</c>): the caption encoder and both stages.</summary>
/// <param name="StageTwo">Null for a model that has only Stage-I (its outputs are then 64 px).</param>
/// <param name="Tokenizer">How the vocabulary was made (the pieces themselves are in the weights).</param>
public sealed record StackGanBundleConfig(TextEncoderConfig TextEncoder, StageOneConfig StageOne, StageTwoConfig? StageTwo, string Tokenizer)
{
    public void Validate()
    {
        TextEncoder.Validate();
        StageOne.Validate();
        StageTwo?.Validate();
        if (StageOne.TextDim != TextEncoder.TextDim || (StageTwo is not null && StageTwo.TextDim != TextEncoder.TextDim))
            throw new ArgumentException($"the stages must read the encoder's {TextEncoder.TextDim}-wide text.");
    }
}

/// <summary>What reading a prompt found: its byte-pair pieces, how many the vocabulary lacks, whether it was cut.</summary>
public sealed record PromptReading(int PromptTokens, int UnknownTokens, bool Truncated);

/// <summary>
/// A served StackGAN in one weights file (so one sha256 names everything that decides the pixels): the frozen caption
/// encoder (<c>text.*</c>), Stage-I (<c>stage1.*</c>), Stage-II (<c>stage2.*</c>, when trained) and the tokenizer's
/// vocabulary (<c>pieces</c>, cl100k_base ids). <c>pack-stackgan</c> writes it from the training folders.
/// </summary>
public sealed class StackGanModel : nn.Module
{
    private readonly TextEncoder text;
    private readonly StageOneGenerator stage1;
    private readonly StageTwoGenerator? stage2;
    private readonly Tensor pieces;
    private CaptionTokenizer? tokenizer;

    public StackGanBundleConfig Config { get; }

    public StackGanModel(StackGanBundleConfig config) : base(nameof(StackGanModel))
    {
        config.Validate();
        Config = config;
        text = new TextEncoder(config.TextEncoder);
        stage1 = new StageOneGenerator(config.StageOne);
        stage2 = config.StageTwo is null ? null : new StageTwoGenerator(config.StageTwo);
        pieces = zeros(config.TextEncoder.VocabSize - 2, ScalarType.Int64);
        RegisterComponents();   // registers the pieces field as a buffer too
    }

    public StageOneGenerator StageOne => stage1;
    public StageTwoGenerator? StageTwo => stage2;

    /// <summary>Side of the final images: Stage-II's, or 64 without one.</summary>
    public int ImageSize => stage2?.Config.ImageSize ?? StageOneConfig.ImageSize;

    /// <summary>The tokenizer over the vocabulary in the weights.</summary>
    public CaptionTokenizer Tokenizer => tokenizer ??=
        new CaptionTokenizer(pieces.cpu().data<long>().Select(p => (int)p).ToArray(), Config.TextEncoder.MaxTokens);

    /// <summary>The model from trained parts: the encoder folder's text encoder and vocabulary, and the stages.</summary>
    public static StackGanModel From(CaptionEncoderFiles encoder, StageOneGenerator stageOne, StageTwoGenerator? stageTwo, string tokenizerDescription)
    {
        var model = new StackGanModel(new StackGanBundleConfig(encoder.Encoder.Config, stageOne.Config, stageTwo?.Config, tokenizerDescription));
        Weights.Copy(encoder.Encoder, model.text);
        Weights.Copy(stageOne, model.stage1);
        if (stageTwo is not null) Weights.Copy(stageTwo, model.stage2!);
        using var _ = no_grad();
        model.pieces.copy_(tensor(encoder.Tokenizer.Pieces.Select(p => (long)p).ToArray()));
        model.tokenizer = null;
        model.eval();
        return model;
    }

    public static StackGanModel Load(string configJson, string weightsPath)
    {
        var config = JsonSerializer.Deserialize<StackGanBundleConfig>(configJson, new JsonSerializerOptions(JsonSerializerDefaults.Web))
            ?? throw new InvalidDataException("a stackgan model needs a config.");
        var model = new StackGanModel(config);
        try
        {
            Weights.Load(model, weightsPath);
            model.tokenizer = null;
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The prompt's embedding [1, TextDim] on the model's device, and what reading it found.</summary>
    public (Tensor Text, PromptReading Reading) Embed(string prompt)
    {
        var ids = Tokenizer.Encode(prompt);
        int count = CaptionTokenizer.PieceIds(prompt).Count;
        var reading = new PromptReading(count, Tokenizer.UnknownPieces(prompt), count > Tokenizer.MaxTokens);
        using var _ = no_grad();
        using var tokens = tensor(ids, [1, ids.Length]).to(text.parameters().First().device);
        return (text.forward(tokens), reading);
    }

    /// <summary>Images for one prompt, one seed at a time (so an image never depends on the others in its job).</summary>
    /// <param name="text">[1, TextDim]: the prompt's embedding (<see cref="Embed"/>).</param>
    /// <returns>Stage-I images [N, 3, 64, 64] and, with a Stage-II, the finals [N, 3, S, S], in [−1, 1].</returns>
    public (Tensor StageOne, Tensor? StageTwo) Draw(Tensor text, IReadOnlyList<long> seeds)
    {
        if (text.shape[0] != 1) throw new ArgumentException($"one prompt's embedding, not {text.shape[0]}.");
        var lows = new List<Tensor>();
        var highs = new List<Tensor>();
        using var scope = NewDisposeScope();
        foreach (var seed in seeds)
        {
            var (low, high) = StackGanPipeline.Draw(stage1, stage2, text, [seed]);
            lows.Add(low);
            if (high is not null) highs.Add(high);
        }
        return (cat(lows, 0).MoveToOuterDisposeScope(), highs.Count > 0 ? cat(highs, 0).MoveToOuterDisposeScope() : null);
    }
}
