using GanService.Models;
using GanService.Models.Data;
using static TorchSharp.torch;

namespace GanService.Workers.Training;

/// <summary>Loads a registered dataset as one tensor of training images in [−1, 1] (what the trainers and evaluations take).</summary>
public static class TrainingData
{
    /// <param name="root">The datasets folder (Datasets:Root).</param>
    /// <param name="sets">Emoji sets; ignored for fashion-mnist.</param>
    /// <returns>[N, C, resolution, resolution] images and [N] class indices (labels or categories).</returns>
    /// <param name="limit">At most this many images (the first ones).</param>
    public static (Tensor Images, Tensor Classes) Load(string root, string dataset, IReadOnlyList<string> sets, int resolution, bool train = true, int? limit = null)
    {
        switch (dataset)
        {
            case DatasetCatalog.Emoji:
            {
                var dir = Path.Combine(root, DatasetCatalog.Emoji);
                var items = sets.SelectMany(s => Emoji.Catalog(dir, s)).Take(limit ?? int.MaxValue).ToList();
                if (items.Count == 0) throw new InvalidDataException($"no emoji images under {dir} for sets {string.Join(", ", sets)}.");
                return Emoji.Load(dir, items, resolution);
            }
            case DatasetCatalog.FashionMnist:
            {
                var (images, labels) = FashionMnist.Load(Path.Combine(root, DatasetCatalog.FashionMnist), train, limit);
                if (resolution == 32) return (images, labels);
                using (images)
                {
                    if (resolution > 32 || 32 % resolution != 0) throw new ArgumentException($"fashion-mnist trains at 32 px or a power-of-two fraction of it, not {resolution}.");
                    return (nn.functional.avg_pool2d(images, 32 / resolution), labels);
                }
            }
            default:
                throw new ArgumentException($"unknown dataset '{dataset}' (known: {string.Join(", ", DatasetCatalog.Names)}).");
        }
    }
}
