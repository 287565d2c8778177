using static TorchSharp.torch;

namespace GanService.Models.Data;

/// <summary>One person emoji with an age: its set, file, age group, gender and skin tone (indices into
/// <see cref="Faces.AgeGroups"/>, <see cref="Faces.Genders"/>, <see cref="Faces.Tones"/>).</summary>
public sealed record FaceItem(string Set, string Path, string Emoji, int AgeGroup, int Gender, int Tone);

/// <summary>
/// The age-labelled faces the CAAE learns from: the ten person emoji that carry an age (baby; child, boy, girl; adult,
/// man, woman; older adult, old man, old woman) in the six skin tones, from every set scripts/fetch-datasets.sh faces
/// fetches: Google's and Twitter's art (emoji-datasource, 64 px PNG), Microsoft's Fluent 3D (256 px WebP), and,
/// rendered from SVG to 128 px PNG, Fluent Flat and OpenMoji. The CAAE trains on the first three; Fluent Flat trains
/// the age classifier that judges it (other data than the generator's); OpenMoji, the most different style, is held
/// out for evaluation.
/// </summary>
public static class Faces
{
    public static IReadOnlyList<string> AgeGroups { get; } = ["baby", "child", "adult", "older"];

    /// <summary>"unspecified" for the gender-neutral emoji (baby, child, adult, older adult).</summary>
    public static IReadOnlyList<string> Genders { get; } = ["unspecified", "male", "female"];

    public static IReadOnlyList<string> Tones { get; } = ["default", "light", "medium-light", "medium", "medium-dark", "dark"];

    public static IReadOnlyList<string> Sets { get; } = ["google", "twitter", "fluent-3d", "fluent-flat", "openmoji"];

    public static IReadOnlyList<string> TrainingSets { get; } = ["google", "twitter", "fluent-3d"];

    private static readonly (string Code, string Name, int Age, int Gender)[] Bases =
    [
        ("1f476", "baby", 0, 0), ("1f9d2", "child", 1, 0), ("1f466", "boy", 1, 1), ("1f467", "girl", 1, 2),
        ("1f9d1", "adult", 2, 0), ("1f468", "man", 2, 1), ("1f469", "woman", 2, 2),
        ("1f9d3", "older adult", 3, 0), ("1f474", "old man", 3, 1), ("1f475", "old woman", 3, 2),
    ];

    private static readonly string[] ToneCodes = ["", "-1f3fb", "-1f3fc", "-1f3fd", "-1f3fe", "-1f3ff"];

    /// <summary>The gender an emoji of each age group can show ([N] int64 each): babies have no gendered emoji, so a
    /// face drawn as a baby is "unspecified" whatever its own gender.</summary>
    public static Tensor GenderAt(Tensor ageGroups, Tensor genders) => where(ageGroups.eq(0), zeros_like(genders), genders);

    /// <summary><see cref="GenderAt(Tensor, Tensor)"/> for one face.</summary>
    public static int GenderAt(int ageGroup, int gender) => ageGroup == 0 ? 0 : gender;

    /// <summary>Every age-labelled face of <paramref name="set"/> under <paramref name="root"/> (the datasets folder).</summary>
    public static List<FaceItem> Catalog(string root, string set)
    {
        var (dir, ext) = set switch
        {
            "google" or "twitter" => (System.IO.Path.Combine(root, "emoji", set, "images"), "png"),
            "fluent-3d" => (System.IO.Path.Combine(root, "faces", set, "images"), "webp"),
            "fluent-flat" or "openmoji" => (System.IO.Path.Combine(root, "faces", set, "images"), "png"),
            _ => throw new ArgumentException($"unknown face set '{set}' (known: {string.Join(", ", Sets)})."),
        };
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir} is missing: run scripts/fetch-datasets.sh faces first.");
        var items = new List<FaceItem>();
        foreach (var (code, name, age, gender) in Bases)
            for (int tone = 0; tone < ToneCodes.Length; tone++)
            {
                // The Fluent 3D package has the medium-light and medium files the other way round (seen against the
                // Fluent Flat art and the other sets: *-1f3fc is brown, *-1f3fd blond).
                int fileTone = set == "fluent-3d" && tone is 2 or 3 ? 5 - tone : tone;
                var path = System.IO.Path.Combine(dir, $"{code}{ToneCodes[fileTone]}.{ext}");
                if (File.Exists(path)) items.Add(new FaceItem(set, path, name, age, gender, tone));
            }
        return items;
    }

    /// <summary>[N, 3, size, size] in [−1, 1] on white, and the age group, gender and tone indices, each [N] int64.</summary>
    public static (Tensor Images, Tensor Ages, Tensor Genders, Tensor Tones) Load(IReadOnlyList<FaceItem> items, int size)
    {
        var images = ImageFiles.LoadOnWhite(items.Select(i => i.Path).ToList(), size);
        return (images,
            tensor(items.Select(i => (long)i.AgeGroup).ToArray(), ScalarType.Int64),
            tensor(items.Select(i => (long)i.Gender).ToArray(), ScalarType.Int64),
            tensor(items.Select(i => (long)i.Tone).ToArray(), ScalarType.Int64));
    }
}
