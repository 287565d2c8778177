using GanService.Models.Data;
using GanService.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.Text;

public sealed record MatchingTrainOptions(int BatchSize = 64, double LearningRate = 1e-3, double WeightDecay = 1e-4, long Seed = 1);

/// <summary>
/// Trains a <see cref="CaptionMatcher"/> on captioned images: each step draws <c>BatchSize</c> distinct images and one
/// of each image's captions (both from the trainer's own seeded generator, so a run is reproducible) and takes one AdamW
/// step on the symmetric contrastive loss.
/// </summary>
public sealed class MatchingTrainer : IDisposable
{
    private readonly optim.Optimizer optimizer;
    private readonly Random random;
    private readonly Tensor images;
    private readonly long[][] captions;   // per image: its captions' token indices, flattened [captions × MaxTokens]
    private readonly int maxTokens;

    public CaptionMatcher Model { get; }
    public MatchingTrainOptions Options { get; }
    public long Step { get; private set; }

    /// <param name="images">[N, 3, S, S] in [−1, 1], the images trained on.</param>
    /// <param name="captions">Per image, its training captions.</param>
    public MatchingTrainer(TextEncoderConfig config, CaptionTokenizer tokenizer, Tensor images, IReadOnlyList<IReadOnlyList<string>> captions,
        MatchingTrainOptions options)
    {
        if (images.shape[0] != captions.Count) throw new ArgumentException("one caption list per image.");
        if (captions.Count < options.BatchSize) throw new ArgumentException($"{captions.Count} images are fewer than a batch of {options.BatchSize}.");
        manual_seed(options.Seed);
        Options = options;
        Model = new CaptionMatcher(config);
        optimizer = optim.AdamW(Model.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        random = new Random((int)options.Seed);
        this.images = images;
        maxTokens = tokenizer.MaxTokens;
        this.captions = captions.Select(list => list.SelectMany(tokenizer.Encode).ToArray()).ToArray();
    }

    /// <returns>The batch's loss.</returns>
    public float TrainStep()
    {
        Model.train();
        using var scope = NewDisposeScope();
        var picked = Enumerable.Range(0, captions.Length).OrderBy(_ => random.Next()).Take(Options.BatchSize).ToArray();
        var tokens = new long[picked.Length * maxTokens];
        for (int i = 0; i < picked.Length; i++)
        {
            var own = captions[picked[i]];
            int which = random.Next(own.Length / maxTokens);
            Array.Copy(own, which * maxTokens, tokens, i * maxTokens, maxTokens);
        }
        optimizer.zero_grad();
        var loss = Model.forward(tensor(tokens, [picked.Length, maxTokens]), images.index_select(0, tensor(picked.Select(p => (long)p).ToArray())));
        loss.backward();
        optimizer.step();
        Step++;
        return loss.item<float>();
    }

    public void Dispose()
    {
        optimizer.Dispose();
        Model.Dispose();
    }
}

/// <summary>Retrieval figures of a matcher: for each query caption, where its own image ranks among the candidates.</summary>
/// <param name="Queries">Captions asked.</param>
/// <param name="Candidates">Images each caption is ranked against.</param>
/// <param name="PrecisionAt1">Share of captions whose own image ranks first.</param>
/// <param name="PrecisionAt5">… ranks in the first five.</param>
/// <param name="SameEmojiAt1">Share whose first image is their own emoji in any skin tone (the tone is the hardest
/// part: six images differ only in it).</param>
/// <param name="ChanceAt1">1 / candidates, for scale.</param>
public sealed record Retrieval(int Queries, int Candidates, double PrecisionAt1, double PrecisionAt5, double SameEmojiAt1, double ChanceAt1);

public static class MatchingEvaluation
{
    /// <summary>Ranks <paramref name="images"/> for each of <paramref name="queries"/> (caption, index of its image).</summary>
    /// <param name="names">Per image, the emoji's name without its tone (what "same emoji" compares).</param>
    public static Retrieval Rank(CaptionMatcher matcher, CaptionTokenizer tokenizer, Tensor images, IReadOnlyList<string> names,
        IReadOnlyList<(string Caption, int Image)> queries)
    {
        matcher.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var v = Batches.InSlices(images, 256, matcher.EmbedImages);
        var tokens = tensor(queries.SelectMany(q => tokenizer.Encode(q.Caption)).ToArray(), [queries.Count, tokenizer.MaxTokens]);
        var t = matcher.EmbedText(tokens);
        var order = t.matmul(v.t()).argsort(1, descending: true).narrow(1, 0, Math.Min(5, images.shape[0]));
        var top = order.data<long>().ToArray();
        int k = (int)order.shape[1], at1 = 0, at5 = 0, same = 0;
        for (int q = 0; q < queries.Count; q++)
        {
            var row = top.AsSpan(q * k, k);
            if (row[0] == queries[q].Image) at1++;
            if (row.Contains(queries[q].Image)) at5++;
            if (names[(int)row[0]] == names[queries[q].Image]) same++;
        }
        return new Retrieval(queries.Count, (int)images.shape[0], (double)at1 / queries.Count, (double)at5 / queries.Count,
            (double)same / queries.Count, 1.0 / images.shape[0]);
    }
}
