using GanService.Models.Data;
using GanService.Models.Text;
using SkiaSharp;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

/// <summary>The text side of text-to-image: captions from emojibase fields, the tokenizer, the encoder and its matching objective.</summary>
public sealed class TextEncoderTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("ganservice-captions-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private void Webp(string file, SKColor color)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(32, 32, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(color);
        using var data = bitmap.Encode(SKEncodedImageFormat.Webp, 100);
        File.WriteAllBytes(Path.Combine(root, "captions", "images", file), data.ToArray());
    }

    [Fact]
    public void Catalog_writes_captions_from_label_tags_subgroup_group_and_tone_and_finds_each_image()
    {
        Directory.CreateDirectory(Path.Combine(root, "captions", "images"));
        Webp("1f44b.webp", SKColors.Red);
        Webp("1f44b-1f3fb.webp", SKColors.Green);
        Webp("1f44b-1f3fd.webp", SKColors.Blue);       // the package's "medium" file holds the medium-light art
        Webp("2764.webp", SKColors.Black);             // named without the FE0F of its hexcode
        Webp("1f3fb.webp", SKColors.White);            // a component: skipped
        File.WriteAllText(Path.Combine(root, "captions", "messages.json"), """
            {"groups":[{"key":"people-body","message":"people & body","order":1},{"key":"component","message":"components","order":2},
                       {"key":"smileys-emotion","message":"smileys & emotion","order":0}],
             "subgroups":[{"key":"hand-fingers-open","message":"fingers open","order":16},{"key":"heart","message":"heart","order":12},
                          {"key":"skin-tone","message":"skin tone","order":20}],
             "skinTones":[]}
            """);
        File.WriteAllText(Path.Combine(root, "captions", "data.json"), """
            [
              {"label":"waving hand","hexcode":"1F44B","tags":["hand","hello","wave"],"group":1,"subgroup":16,
               "skins":[{"label":"waving hand: light skin tone","hexcode":"1F44B-1F3FB","group":1,"subgroup":16,"tone":1},
                        {"label":"waving hand: medium-light skin tone","hexcode":"1F44B-1F3FC","group":1,"subgroup":16,"tone":2},
                        {"label":"waving hand: dark skin tone","hexcode":"1F44B-1F3FF","group":1,"subgroup":16,"tone":5}]},
              {"label":"red heart","hexcode":"2764-FE0F","tags":["heart","love"],"group":0,"subgroup":12},
              {"label":"light skin tone","hexcode":"1F3FB","group":2,"subgroup":20},
              {"label":"regional indicator A","hexcode":"1F1E6"}
            ]
            """);

        var items = EmojiCaptions.Catalog(root);

        Assert.Equal(["1F44B", "1F44B-1F3FB", "1F44B-1F3FC", "2764-FE0F"], items.Select(i => i.Hexcode));
        Assert.EndsWith("1f44b-1f3fd.webp", items[2].Path);   // medium-light ↔ medium swapped in the package
        Assert.EndsWith("2764.webp", items[3].Path);
        var light = items[1];
        Assert.Equal(("waving hand", "light skin tone"), (light.Name, light.Tone));
        Assert.Equal([
            "waving hand with light skin tone",
            "a waving hand emoji with light skin tone",
            "hand fingers open: waving hand with light skin tone",
            "waving hand from people & body with light skin tone",
            "waving hand with light skin tone, hello, wave",   // "hand" is in the name already
        ], light.Captions);
        Assert.Equal("picture of waving hand in light skin tone", light.HeldOutCaption);
        Assert.DoesNotContain(light.HeldOutCaption, items.SelectMany(i => i.Captions));
        // Tones of one emoji are held out together.
        Assert.Single(items.Take(3).Select(i => i.HeldOut).Distinct());
        Assert.Equal(EmojiCaptions.HoldsOut("1F44B"), items[0].HeldOut);
    }

    [Fact]
    public void Tokenizer_normalises_text_maps_unknown_pieces_and_never_fails()
    {
        var tokenizer = CaptionTokenizer.Build(["a waving hand emoji", "red heart"], maxTokens: 8);
        Assert.Equal("waving hand emoji", CaptionTokenizer.Normalize("  Waving\tHAND\u0007\n emoji "));
        // Full-width letters and a ligature fold to the same text (NFKC).
        Assert.Equal(tokenizer.Encode("waving hand"), tokenizer.Encode("Ｗａｖｉｎｇ  hand"));
        var known = tokenizer.Encode("red heart");
        Assert.All(known.Take(2), id => Assert.True(id > CaptionTokenizer.Unknown));
        Assert.All(known.Skip(2), id => Assert.Equal(CaptionTokenizer.Pad, id));
        Assert.Equal(0, tokenizer.UnknownPieces("a red heart"));

        var unknown = tokenizer.Encode("zorblax 🦄 über");
        Assert.Contains(CaptionTokenizer.Unknown, unknown);
        Assert.True(tokenizer.UnknownPieces("zorblax 🦄 über") > 0);
        Assert.Equal(8, tokenizer.Encode(string.Join(' ', Enumerable.Repeat("heart", 40))).Length);   // cut to MaxTokens
        Assert.All(tokenizer.Encode(""), id => Assert.Equal(CaptionTokenizer.Pad, id));
        // The same vocabulary rebuilt from its pieces encodes the same way (what encoder.json stores).
        Assert.Equal(known, new CaptionTokenizer(tokenizer.Pieces, 8).Encode("red heart"));
    }

    [Fact]
    public void Matching_training_separates_captions_of_different_images()
    {
        manual_seed(3);
        // Eight flat-coloured "images", each with two captions naming its colour.
        var colours = new[] { "red", "green", "blue", "yellow", "black", "white", "purple", "orange" };
        var rgb = new float[,] { { 1, -1, -1 }, { -1, 1, -1 }, { -1, -1, 1 }, { 1, 1, -1 }, { -1, -1, -1 }, { 1, 1, 1 }, { 0, -1, 0 }, { 1, 0, -1 } };
        using var images = zeros(8, 3, 32, 32);
        for (int i = 0; i < 8; i++)
            for (int c = 0; c < 3; c++) images[i, c].fill_(rgb[i, c]);
        var captions = colours.Select(c => (IReadOnlyList<string>)[$"a {c} square", $"{c} emoji"]).ToList();
        var tokenizer = CaptionTokenizer.Build(captions.SelectMany(c => c), maxTokens: 6);
        var config = new TextEncoderConfig(tokenizer.Size, tokenizer.MaxTokens, EmbedDim: 16, Hidden: 32, TextDim: 16, ImageSize: 32);
        using var trainer = new MatchingTrainer(config, tokenizer, images, captions, new MatchingTrainOptions(BatchSize: 8, LearningRate: 3e-3, Seed: 3));

        var names = colours.ToList();
        var before = MatchingEvaluation.Rank(trainer.Model, tokenizer, images, names, colours.Select((c, i) => ($"{c} emoji", i)).ToList());
        float first = trainer.TrainStep(), last = first;
        for (int s = 0; s < 150; s++) last = trainer.TrainStep();
        var after = MatchingEvaluation.Rank(trainer.Model, tokenizer, images, names, colours.Select((c, i) => ($"{c} emoji", i)).ToList());

        Assert.True(last < first / 4, $"loss {first:F3} → {last:F3}");
        Assert.Equal(1.0, after.PrecisionAt1);
        Assert.True(before.PrecisionAt1 < 1.0, "an untrained matcher already matched every caption: the test shows nothing");
        // The text embedding has the configured width and is the same for the same caption (eval mode).
        trainer.Model.eval();
        using var tokens = tensor(tokenizer.Encode("red emoji"), [1, 6]);
        using var a = trainer.Model.Text.forward(tokens);
        using var b = trainer.Model.Text.forward(tokens);
        Assert.Equal([1L, 16L], a.shape);
        Assert.True(a.eq(b).all().item<bool>());
    }
}
