using System.Text.Json;
using GanService.Core.Data;
using GanService.Core.Models;
using GanService.Models;
using Microsoft.EntityFrameworkCore;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>import --name N --family dcgan|progan --config config.json --weights w.safetensors [--labels a,b,…]</c>: the same
/// checks as POST /v1/models/import, then a new version. <c>export --model N[@version] --out DIR</c>: the version's
/// safetensors (PyTorch key names, byte-identical to what was registered) and its model.json, which import takes back.
/// </summary>
public static class ImportExportCommands
{
    public static async Task<int> ImportAsync(IServiceProvider services, CliArgs args)
    {
        using var scope = services.CreateScope();
        var registry = scope.ServiceProvider.GetRequiredService<ModelRegistry>();
        string name = args.Optional("name") ?? throw new ArgumentException("--name is required.");
        string family = args.Optional("family") ?? throw new ArgumentException("--family is required (dcgan or progan).");
        string weights = args.Optional("weights") ?? throw new ArgumentException("--weights (a safetensors file) is required.");
        string config = args.Optional("config") is { } c
            ? File.Exists(c) ? File.ReadAllText(c) : c
            : throw new ArgumentException("--config (a JSON file or JSON text) is required.");
        if (!File.Exists(weights)) throw new FileNotFoundException($"{weights} does not exist.");
        string[]? labels = args.Optional("labels")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        try
        {
            var imported = ModelImport.Validate(family, config, weights);
            var version = await registry.ImportAsync(name, family, args.Optional("description"), labels, imported.Resolution,
                imported.NumClasses, imported.ConfigJson, weights, CancellationToken.None);
            Console.WriteLine($"imported {family} model {name} version {version.Version} (sha256 {version.Sha256})");
            return 0;
        }
        catch (ModelImportException e)
        {
            Console.Error.WriteLine($"import refused ({e.Field}): {e.Message}");
            return 1;
        }
        catch (ArgumentException e) when (e.ParamName is not null)
        {
            Console.Error.WriteLine($"import refused ({e.ParamName}): {e.Message.Split(" (Parameter")[0]}");
            return 1;
        }
    }

    public static async Task<int> ExportAsync(IServiceProvider services, CliArgs args)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<GanDbContext>();
        string spec = args.Optional("model") ?? throw new ArgumentException("--model NAME[@VERSION] is required.");
        string outDir = args.String("out", Path.Combine("exported", spec.Replace('@', '-')));
        var parts = spec.Split('@', 2);
        var model = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Name == parts[0]);
        if (model is null)
        {
            Console.Error.WriteLine($"no model '{parts[0]}'");
            return 1;
        }
        var versions = db.ModelVersions.AsNoTracking().Where(v => v.ModelName == model.Name);
        var version = parts.Length == 1
            ? await versions.FirstOrDefaultAsync(v => v.Id == model.CurrentVersionId)
            : await versions.FirstOrDefaultAsync(v => v.Version == parts[1] || v.Sha256 == parts[1]);
        if (version is null)
        {
            Console.Error.WriteLine($"no version '{spec}'");
            return 1;
        }
        Directory.CreateDirectory(outDir);
        var weights = Path.Combine(outDir, "generator.safetensors");
        File.Copy(version.WeightsPath, weights, overwrite: true);
        if (Weights.Sha256(weights) != version.Sha256) throw new InvalidDataException($"{version.WeightsPath} no longer matches its sha256.");
        var manifest = new ModelManifest(model.Name, model.Kind, model.Family, IsDefault: false, model.Resolution,
            model.Labels.Length == 0 ? null : model.Labels, model.Description, "generator.safetensors",
            JsonDocument.Parse(version.Config).RootElement.Clone(), Dataset: null, TrainCommand: null);
        File.WriteAllText(Path.Combine(outDir, "model.json"), JsonSerializer.Serialize(manifest, ModelManifest.Json) + "\n");
        File.WriteAllText(Path.Combine(outDir, "config.json"), version.Config + "\n");
        Console.WriteLine($"exported {model.Name} version {version.Version} to {outDir} (generator.safetensors, config.json, model.json)");
        return 0;
    }
}
