using System.Text.Json;
using System.Text.Json.Serialization;

namespace GanService.Core.Models;

/// <summary>
/// <c>models/&lt;name&gt;/model.json</c>: a shipped model's description, beside its safetensors weights and the
/// <c>metrics.json</c> our evaluation wrote. An aging model names the age groups it draws in <c>ageGroups</c>.
/// </summary>
public sealed record ModelManifest(
    string Name,
    string Kind,
    string Family,
    bool IsDefault,
    int Resolution,
    string[]? Labels,
    string? Description,
    string Weights,
    JsonElement Config,
    string? Dataset,
    string? TrainCommand,
    string[]? AgeGroups = null)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Files for people and tools, never embedded in HTML: "×" and "'" stay as written rather than \u00D7 and \u0027.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static ModelManifest Read(string path) =>
        JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), Json)
        ?? throw new InvalidDataException($"{path} is empty.");
}

public sealed class ModelOptions
{
    public const string Section = "Models";

    /// <summary>Folder holding one sub-folder per shipped model (model.json + weights).</summary>
    public string Root { get; set; } = "models";
}
