using System.Text.Json;
using static TorchSharp.torch;

namespace GanService.Models.Data;

/// <summary>One emoji image of one set: file, Unicode name, category, and skin tone where it is a variation.</summary>
public sealed record EmojiItem(string Set, string File, string Name, string Category, string? SkinTone);

/// <summary>
/// The emoji sets that scripts/fetch-datasets.sh emoji puts in .data/datasets/emoji/&lt;set&gt; from npm
/// (emoji-datasource-google: Noto Emoji art, Apache-2.0; emoji-datasource-twitter: Twemoji art, CC-BY 4.0): 64×64 RGBA
/// PNGs plus emoji.json with names and categories. Images are composited on white.
/// </summary>
public static class Emoji
{
    /// <summary>Categories in a fixed order (emoji.json's "Component" — bare skin-tone swatches — is left out).</summary>
    public static IReadOnlyList<string> Categories { get; } =
    [
        "Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Travel & Places",
        "Activities", "Objects", "Symbols", "Flags",
    ];

    private static readonly Dictionary<string, string> Tones = new(StringComparer.OrdinalIgnoreCase)
    {
        ["1F3FB"] = "light", ["1F3FC"] = "medium-light", ["1F3FD"] = "medium", ["1F3FE"] = "medium-dark", ["1F3FF"] = "dark",
    };

    /// <summary>Every image of <paramref name="set"/> under <paramref name="root"/> (the emoji folder) that exists on disk.</summary>
    public static List<EmojiItem> Catalog(string root, string set)
    {
        var dir = Path.Combine(root, set);
        var json = Path.Combine(dir, "emoji.json");
        if (!File.Exists(json)) throw new FileNotFoundException($"{json} is missing: run scripts/fetch-datasets.sh emoji first.");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
        var items = new List<EmojiItem>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            string category = e.GetProperty("category").GetString() ?? "";
            if (!Categories.Contains(category)) continue;
            string name = (e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null)
                ?? e.GetProperty("short_name").GetString() ?? "";
            Add(items, dir, set, e, name.ToLowerInvariant(), category, null);
            if (e.TryGetProperty("skin_variations", out var variations) && variations.ValueKind == JsonValueKind.Object)
                foreach (var v in variations.EnumerateObject())
                {
                    var tone = string.Join("+", v.Name.Split('-').Select(t => Tones.GetValueOrDefault(t, t.ToLowerInvariant())));
                    Add(items, dir, set, v.Value, name.ToLowerInvariant(), category, tone);
                }
        }
        return items;
    }

    private static void Add(List<EmojiItem> items, string dir, string set, JsonElement e, string name, string category, string? tone)
    {
        if (e.TryGetProperty($"has_img_{set}", out var has) && has.ValueKind == JsonValueKind.False) return;
        var file = e.GetProperty("image").GetString();
        if (file is not null && File.Exists(Path.Combine(dir, "images", file))) items.Add(new EmojiItem(set, file, name, category, tone));
    }

    /// <summary>
    /// Decodes <paramref name="items"/> as RGB composited on white, [N, 3, size, size] in [−1, 1] (64 px art, area-averaged
    /// down when <paramref name="size"/> is smaller), and their category indices [N] int64.
    /// </summary>
    public static (Tensor Images, Tensor Categories) Load(string root, IReadOnlyList<EmojiItem> items, int size = 64)
    {
        const int native = 64;
        if (size > native || native % size != 0) throw new ArgumentException($"size must divide {native}, got {size}.");
        var images = ImageFiles.LoadOnWhite(items.Select(it => Path.Combine(root, it.Set, "images", it.File)).ToList(), native);
        if (size < native)
        {
            var smaller = nn.functional.avg_pool2d(images, native / size);
            images.Dispose();
            images = smaller;
        }
        var categories = tensor(items.Select(it => (long)IndexOf(it.Category)).ToArray(), [items.Count], ScalarType.Int64);
        return (images, categories);
    }

    private static int IndexOf(string category)
    {
        for (int i = 0; i < Categories.Count; i++) if (Categories[i] == category) return i;
        throw new ArgumentException($"unknown category '{category}'.");
    }
}
