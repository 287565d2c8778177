namespace GanService.Models;

/// <summary>One part of a dataset with its own source and licence (the emoji sets).</summary>
/// <param name="Images">Image files on disk; 0 when not fetched.</param>
public sealed record DatasetSet(string Name, string Source, string Licence, bool Fetched, int Images);

/// <summary>A dataset the trainers know, and whether this machine has it.</summary>
/// <param name="Resolution">Native width and height in pixels (what a training may ask for at most).</param>
/// <param name="Classes">Labels (Fashion-MNIST) or categories (emoji) the evaluation classifier tells apart.</param>
public sealed record DatasetInfo(
    string Name, string Description, int Resolution, int Channels, IReadOnlyList<string> Classes,
    string Source, string Licence, string FetchCommand, bool Fetched, IReadOnlyList<DatasetSet> Sets);

/// <summary>
/// The registry of training datasets: what each is, where it comes from under which licence, and whether
/// scripts/fetch-datasets.sh has put it under the datasets folder (Datasets:Root) on this machine.
/// </summary>
public static class DatasetCatalog
{
    public const string FashionMnist = "fashion-mnist";
    public const string Emoji = "emoji";

    public static IReadOnlyList<string> Names { get; } = [FashionMnist, Emoji];

    public static IReadOnlyList<(string Name, string Source, string Licence)> EmojiSets { get; } =
    [
        ("google", "npm emoji-datasource-google 16.0.0 (Noto Emoji art)", "Apache-2.0 (Google); package MIT"),
        ("twitter", "npm emoji-datasource-twitter 16.0.0 (Twemoji art)", "CC-BY-4.0 (Twitter, Inc. and other contributors); package MIT"),
    ];

    public static IReadOnlyList<DatasetInfo> All(string root) => [Describe(FashionMnist, root)!, Describe(Emoji, root)!];

    /// <summary>The dataset's description with what is on disk now, or null for an unknown name.</summary>
    public static DatasetInfo? Describe(string name, string root) => name switch
    {
        FashionMnist => new DatasetInfo(
            FashionMnist,
            "Zalando's Fashion-MNIST: 60,000 train + 10,000 test grey 28×28 article images in 10 classes (padded to 32×32 for training).",
            32, 1, Data.FashionMnist.Labels,
            "Debian package dataset-fashion-mnist", "MIT (© 2017 Zalando SE)", "./scripts/fetch-datasets.sh",
            File.Exists(Path.Combine(root, FashionMnist, "train-images-idx3-ubyte.gz")), []),
        Emoji => EmojiInfo(root),
        _ => null,
    };

    private static DatasetInfo EmojiInfo(string root)
    {
        var sets = EmojiSets.Select(s =>
        {
            var dir = Path.Combine(root, Emoji, s.Name);
            bool fetched = File.Exists(Path.Combine(dir, "emoji.json")) && Directory.Exists(Path.Combine(dir, "images"));
            int images = fetched ? Directory.EnumerateFiles(Path.Combine(dir, "images"), "*.png").Count() : 0;
            return new DatasetSet(s.Name, s.Source, s.Licence, fetched, images);
        }).ToList();
        return new DatasetInfo(
            Emoji,
            "Emoji art at 64×64 composited on white, with Unicode names, categories and skin tones, one set per vendor.",
            64, 3, Data.Emoji.Categories,
            "npm emoji-datasource-* 16.0.0", "per set (see sets)", "./scripts/fetch-datasets.sh emoji",
            sets.Any(s => s.Fetched), sets);
    }
}
