using System.IO.Compression;
using static TorchSharp.torch;

namespace GanService.Models.Data;

/// <summary>Fashion-MNIST (Zalando, MIT licence) read from the IDX files of Debian's dataset-fashion-mnist package.</summary>
public static class FashionMnist
{
    /// <summary>Label names in class-index order, as the service exposes them.</summary>
    public static IReadOnlyList<string> Labels { get; } =
        ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"];

    public const string Licence = "MIT (Zalando SE)";

    /// <summary>Loads a split as images [N, 1, 32, 32] in [-1, 1] (28×28 padded with background) and labels [N] int64.</summary>
    public static (Tensor Images, Tensor Labels) Load(string directory, bool train, int? limit = null)
    {
        string prefix = train ? "train" : "t10k";
        var pixels = ReadIdx(Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz"), out var dims);
        var labels = ReadIdx(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"), out _);
        int n = dims[0], h = dims[1], w = dims[2];
        if (limit is int l && l < n) n = l;
        var images = tensor(pixels.AsSpan(0, n * h * w).ToArray(), [n, 1, h, w], ScalarType.Byte)
            .to(ScalarType.Float32).div_(127.5).sub_(1.0);
        var padded = nn.functional.pad(images, [2, 2, 2, 2], value: -1.0);
        images.Dispose();
        var y = tensor(labels.AsSpan(0, n).ToArray(), [n], ScalarType.Byte).to(ScalarType.Int64);
        return (padded, y);
    }

    static byte[] ReadIdx(string path, out int[] dims)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Fashion-MNIST file {path} is missing: run scripts/fetch-datasets.sh.", path);
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        var bytes = ms.ToArray();
        int ndim = bytes[3];
        dims = new int[ndim];
        for (int i = 0; i < ndim; i++)
            dims[i] = (bytes[4 + 4 * i] << 24) | (bytes[5 + 4 * i] << 16) | (bytes[6 + 4 * i] << 8) | bytes[7 + 4 * i];
        return bytes[(4 + 4 * ndim)..];
    }
}
