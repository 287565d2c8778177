namespace GanService.Core.Datasets;

public sealed class DatasetOptions
{
    public const string Section = "Datasets";

    /// <summary>Where scripts/fetch-datasets.sh puts the datasets (one folder each).</summary>
    public string Root { get; set; } = ".data/datasets";
}
