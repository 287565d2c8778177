using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace GanService.Models.Text;

/// <summary>
/// Prompts and captions to token indices. Text is normalised (Unicode NFKC, lower case, every run of whitespace or
/// control characters one space), split by the cl100k_base byte-pair encoding (Microsoft.ML.Tokenizers, the data
/// from its NuGet package: any string encodes, so unknown words become sub-word pieces, never an error), and each
/// piece mapped to our vocabulary: the pieces the training captions use, in a fixed order. A piece outside it is
/// <see cref="Unknown"/>; <see cref="Pad"/> fills a short text to the fixed length.
/// </summary>
public sealed class CaptionTokenizer
{
    public const long Pad = 0, Unknown = 1;
    private const int Reserved = 2;

    private static readonly Lazy<TiktokenTokenizer> Bpe = new(() => TiktokenTokenizer.CreateForModel("gpt-4"));
    private readonly Dictionary<int, long> index;

    /// <summary>cl100k_base ids of our vocabulary; the piece with id <c>Pieces[k]</c> has index k + 2.</summary>
    public IReadOnlyList<int> Pieces { get; }

    /// <summary>Indices per text, at most; longer texts are cut (captions here are under 20).</summary>
    public int MaxTokens { get; }

    /// <summary>Vocabulary size including <see cref="Pad"/> and <see cref="Unknown"/>.</summary>
    public int Size => Pieces.Count + Reserved;

    public CaptionTokenizer(IReadOnlyList<int> pieces, int maxTokens)
    {
        if (maxTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxTokens));
        Pieces = pieces;
        MaxTokens = maxTokens;
        index = new Dictionary<int, long>(pieces.Count);
        for (int k = 0; k < pieces.Count; k++) index.Add(pieces[k], k + Reserved);
    }

    /// <summary>The vocabulary of <paramref name="captions"/>: every piece they use, by first appearance.</summary>
    public static CaptionTokenizer Build(IEnumerable<string> captions, int maxTokens)
    {
        var seen = new HashSet<int>();
        var pieces = new List<int>();
        foreach (var caption in captions)
            foreach (int id in PieceIds(caption))
                if (seen.Add(id)) pieces.Add(id);
        return new CaptionTokenizer(pieces, maxTokens);
    }

    /// <summary>NFKC, lower case, whitespace and control characters collapsed to single spaces, trimmed.</summary>
    public static string Normalize(string text)
    {
        var nfkc = text.Normalize(NormalizationForm.FormKC).ToLower(CultureInfo.InvariantCulture);
        var sb = new StringBuilder(nfkc.Length);
        bool space = false;
        foreach (char c in nfkc)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c)) { space = sb.Length > 0; continue; }
            if (space) { sb.Append(' '); space = false; }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The byte-pair pieces of the normalised text, read as if it followed a space (so a word is the same
    /// piece at the start as in the middle).</summary>
    public static IReadOnlyList<int> PieceIds(string text)
    {
        var normal = Normalize(text);
        return normal.Length == 0 ? [] : Bpe.Value.EncodeToIds(" " + normal);
    }

    /// <summary>[<see cref="MaxTokens"/>] indices: the text's pieces in our vocabulary, then <see cref="Pad"/>.</summary>
    public long[] Encode(string text)
    {
        var ids = new long[MaxTokens];
        var pieces = PieceIds(text);
        for (int i = 0; i < Math.Min(pieces.Count, MaxTokens); i++) ids[i] = index.TryGetValue(pieces[i], out var k) ? k : Unknown;
        return ids;
    }

    /// <summary>How many of the text's pieces are outside the vocabulary (0 for a text like the captions).</summary>
    public int UnknownPieces(string text) => PieceIds(text).Count(id => !index.ContainsKey(id));
}

/// <summary>A trained caption encoder as train-text-encoder writes it: encoder.json (sizes, vocabulary) and text-encoder.safetensors.</summary>
public sealed record CaptionEncoderFiles(CaptionTokenizer Tokenizer, TextEncoder Encoder)
{
    public sealed record Manifest(string Tokenizer, TextEncoderConfig Config, IReadOnlyList<int> Pieces);

    public static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web) { WriteIndented = true };

    public static CaptionEncoderFiles Load(string dir)
    {
        var manifest = System.Text.Json.JsonSerializer.Deserialize<Manifest>(File.ReadAllText(Path.Combine(dir, "encoder.json")), Json)
            ?? throw new InvalidDataException($"{dir}/encoder.json is empty.");
        var encoder = new TextEncoder(manifest.Config);
        Weights.Load(encoder, Path.Combine(dir, "text-encoder.safetensors"));
        encoder.eval();
        return new CaptionEncoderFiles(new CaptionTokenizer(manifest.Pieces, manifest.Config.MaxTokens), encoder);
    }

    /// <summary>[N, TextDim] embeddings of <paramref name="texts"/> (no gradient), in batches of 512.</summary>
    public TorchSharp.torch.Tensor Embed(IReadOnlyList<string> texts)
    {
        using var _ = TorchSharp.torch.no_grad();
        var parts = new List<TorchSharp.torch.Tensor>();
        for (int i = 0; i < texts.Count; i += 512)
        {
            var chunk = texts.Skip(i).Take(512).ToList();
            using var tokens = TorchSharp.torch.tensor(chunk.SelectMany(Tokenizer.Encode).ToArray(), [chunk.Count, Tokenizer.MaxTokens]);
            parts.Add(Encoder.forward(tokens));
        }
        var all = TorchSharp.torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }
}
