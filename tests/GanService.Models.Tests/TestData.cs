namespace GanService.Models.Tests;

/// <summary>Finds the repository's Fashion-MNIST copy (scripts/fetch-datasets.sh puts it in .data/datasets).</summary>
static class TestData
{
    public static string FashionMnistDirectory
    {
        get
        {
            var dir = Path.Combine(RepositoryRoot, ".data", "datasets", "fashion-mnist");
            if (!File.Exists(Path.Combine(dir, "t10k-images-idx3-ubyte.gz")))
                throw new InvalidOperationException($"Fashion-MNIST is missing from {dir}: run scripts/fetch-datasets.sh first.");
            return dir;
        }
    }

    static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "GanService.sln")) || Directory.Exists(Path.Combine(dir.FullName, ".git")))
                    return dir.FullName;
            }
            throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} holds GanService.sln or .git.");
        }
    }
}
