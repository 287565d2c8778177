using System.Text.Json;

namespace GanService.Models.Data;

/// <summary>
/// One emoji image with the captions our code writes for it. <see cref="Captions"/> are the training phrasings;
/// <see cref="HeldOutCaption"/> is a phrasing no training caption uses, kept for evaluation. <see cref="HeldOut"/>
/// images (about one emoji in ten, with all its skin tones) are not trained on at all.
/// </summary>
public sealed record CaptionedImage(string Hexcode, string Path, string Name, string? Tone, string Group, IReadOnlyList<string> Captions, string HeldOutCaption, bool HeldOut);

/// <summary>
/// The text-to-image dataset (scripts/fetch-datasets.sh captions): Fluent 3D emoji art at 256 px, captioned from
/// emojibase-data's English label, tags, group and subgroup, and skin tone. Every caption is built from those fields
/// by fixed templates, so the set is the same on every machine.
/// </summary>
public static class EmojiCaptions
{
    /// <summary>Groups left out: "component" (bare skin-tone swatches and hair pieces, not pictures of anything).</summary>
    private static readonly HashSet<string> SkippedGroups = ["component"];

    /// <summary>Every captioned image under <paramref name="root"/> (the datasets folder), in emojibase order.</summary>
    public static List<CaptionedImage> Catalog(string root)
    {
        var dir = System.IO.Path.Combine(root, "captions");
        var images = System.IO.Path.Combine(dir, "images");
        if (!Directory.Exists(images)) throw new DirectoryNotFoundException($"{images} is missing: run scripts/fetch-datasets.sh captions first.");
        using var data = JsonDocument.Parse(File.ReadAllBytes(System.IO.Path.Combine(dir, "data.json")));
        using var messages = JsonDocument.Parse(File.ReadAllBytes(System.IO.Path.Combine(dir, "messages.json")));
        var groups = messages.RootElement.GetProperty("groups").EnumerateArray()
            .ToDictionary(g => g.GetProperty("order").GetInt32(), g => (Key: g.GetProperty("key").GetString()!, Message: g.GetProperty("message").GetString()!));
        // emojibase-data 17.0.0 gives two subgroups the same number (46: food-marine and food-sweet); an emoji whose
        // subgroup is ambiguous is captioned with its group instead.
        var subgroups = messages.RootElement.GetProperty("subgroups").EnumerateArray()
            .GroupBy(g => g.GetProperty("order").GetInt32()).Where(g => g.Count() == 1)
            .ToDictionary(g => g.Key, g => g.Single().GetProperty("key").GetString()!.Replace('-', ' '));

        var items = new List<CaptionedImage>();
        foreach (var entry in data.RootElement.EnumerateArray())
        {
            if (!entry.TryGetProperty("group", out var g) || !groups.TryGetValue(g.GetInt32(), out var group) || SkippedGroups.Contains(group.Key)) continue;
            string subgroup = entry.TryGetProperty("subgroup", out var sg) && subgroups.TryGetValue(sg.GetInt32(), out var s) ? s : group.Message;
            var tags = entry.TryGetProperty("tags", out var t) ? t.EnumerateArray().Select(x => x.GetString()!).ToList() : [];
            string baseHex = entry.GetProperty("hexcode").GetString()!;
            bool heldOut = HoldsOut(baseHex);
            var variants = new List<JsonElement> { entry };
            if (entry.TryGetProperty("skins", out var skins)) variants.AddRange(skins.EnumerateArray());
            foreach (var variant in variants)
            {
                string hex = variant.GetProperty("hexcode").GetString()!;
                var path = ImagePath(images, hex);
                if (path is null) continue;
                var (name, tone) = SplitLabel(variant.GetProperty("label").GetString()!);
                items.Add(new CaptionedImage(hex, path, name, tone, group.Message,
                    Captions(name, tone, tags, group.Message, subgroup), HeldOutPhrasing(name, tone), heldOut));
            }
        }
        return items;
    }

    /// <summary>About one emoji in ten (by a hash of its base code point, so all its tones go together) is held out.</summary>
    public static bool HoldsOut(string baseHexcode)
    {
        uint h = 2166136261;
        foreach (char c in baseHexcode.ToLowerInvariant()) h = (h ^ c) * 16777619;
        return h % 10 == 0;
    }

    /// <summary>"waving hand: medium-light skin tone" → ("waving hand", "medium-light skin tone").</summary>
    internal static (string Name, string? Tone) SplitLabel(string label)
    {
        int colon = label.LastIndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && label.EndsWith("skin tone", StringComparison.Ordinal)) return (label[..colon], label[(colon + 2)..]);
        return (label, null);
    }

    /// <summary>The training captions: the name alone, as an emoji, with its subgroup, with up to three of its tags
    /// (chosen by position, so fixed), and with its group; a skin tone is said in every one.</summary>
    internal static List<string> Captions(string name, string? tone, IReadOnlyList<string> tags, string group, string subgroup)
    {
        string with = tone is null ? "" : " with " + tone;
        var captions = new List<string>
        {
            name + with,
            $"a {name} emoji{with}",
            $"{subgroup}: {name}{with}",
            $"{name} from {group}{with}",
        };
        var words = tags.Where(t => !name.Contains(t, StringComparison.OrdinalIgnoreCase)).Take(3).ToList();
        if (words.Count > 0) captions.Add($"{name}{with}, {string.Join(", ", words)}");
        return captions;
    }

    /// <summary>A phrasing no training caption has, for evaluating on text the encoder never saw.</summary>
    internal static string HeldOutPhrasing(string name, string? tone) => $"picture of {name}" + (tone is null ? "" : $" in {tone}");

    /// <summary>
    /// The image file for an emojibase hexcode: the package names files by lower-case code points, sometimes without
    /// the variation selector FE0F. Its medium-light (1F3FC) and medium (1F3FD) files are the other way round (seen on
    /// the person emoji against the other vendors' art; <see cref="Faces"/> does the same).
    /// </summary>
    internal static string? ImagePath(string images, string hexcode)
    {
        var hex = hexcode.ToLowerInvariant();
        hex = hex.Replace("1f3fc", "\0").Replace("1f3fd", "1f3fc").Replace("\0", "1f3fd");
        foreach (var candidate in new[] { hex, hex.Replace("-fe0f", "") })
        {
            var path = System.IO.Path.Combine(images, candidate + ".webp");
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
