using GanService.Models.Data;
using SkiaSharp;

namespace GanService.Models.Tests;

/// <summary>The emoji loader on a small set laid out as scripts/fetch-datasets.sh lays out the npm packages.</summary>
public sealed class EmojiTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("ganservice-emoji-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private void Png(string file, SKColor color)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(color);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(Path.Combine(root, "google", "images", file), data.ToArray());
    }

    [Fact]
    public void Catalog_reads_names_categories_and_skin_tones_and_load_composites_on_white()
    {
        Directory.CreateDirectory(Path.Combine(root, "google", "images"));
        Png("1f476.png", new SKColor(255, 0, 0, 255));       // opaque red
        Png("1f476-1f3fd.png", new SKColor(0, 0, 255, 128)); // half-transparent blue
        Png("1f600.png", new SKColor(0, 0, 0, 0));           // fully transparent
        Png("1f3fb.png", new SKColor(1, 2, 3, 255));
        File.WriteAllText(Path.Combine(root, "google", "emoji.json"), """
            [
              {"name":"BABY","short_name":"baby","image":"1f476.png","category":"People & Body","has_img_google":true,
               "skin_variations":{"1F3FD":{"image":"1f476-1f3fd.png","has_img_google":true},
                                  "1F3FF":{"image":"1f476-1f3ff.png","has_img_google":true}}},
              {"name":"GRINNING FACE","short_name":"grinning","image":"1f600.png","category":"Smileys & Emotion","has_img_google":true},
              {"name":"EMOJI MODIFIER FITZPATRICK TYPE-1-2","short_name":"skin-tone-2","image":"1f3fb.png","category":"Component","has_img_google":true},
              {"name":"NOT DRAWN","short_name":"x","image":"1f601.png","category":"Smileys & Emotion","has_img_google":false}
            ]
            """);

        var items = Emoji.Catalog(root, "google");
        // The dark variation's file is missing, the Component swatch and the undrawn emoji are left out.
        Assert.Equal(
            [("baby", "People & Body", (string?)null), ("baby", "People & Body", "medium"), ("grinning face", "Smileys & Emotion", null)],
            items.Select(i => (i.Name, i.Category, i.SkinTone)));

        var (images, categories) = Emoji.Load(root, items);
        using var _i = images;
        using var _c = categories;
        Assert.Equal(new long[] { 3, 3, 64, 64 }, images.shape);
        Assert.Equal([1L, 1L, 0L], categories.data<long>().ToArray());
        float[] Rgb(int n) => [.. Enumerable.Range(0, 3).Select(c => images[n, c, 10, 10].item<float>())];
        Assert.Equal([1f, -1f, -1f], Rgb(0));                 // red stays red
        Assert.Equal([1f, 1f, 1f], Rgb(2));                   // transparent becomes white
        var blue = Rgb(1);                                      // half blue over white: R and G about halfway
        Assert.InRange(blue[0], -0.1f, 0.1f);
        Assert.Equal(1f, blue[2]);

        var (small, _) = Emoji.Load(root, items, size: 32);
        using var _s = small;
        Assert.Equal(new long[] { 3, 3, 32, 32 }, small.shape);
    }
}
