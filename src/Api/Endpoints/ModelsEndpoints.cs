using System.Text.Json;
using System.Text.Json.Serialization;
using GanService.Api.Auth;
using GanService.Api.Infrastructure;
using GanService.Api.Jobs;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Models;
using GanService.Core.Storage;
using GanService.Models;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Api.Endpoints;

/// <summary>A servable model.</summary>
/// <param name="Version">Current version: first 12 hex digits of the weights' sha256.</param>
/// <param name="Sha256">The current version's weights sha256 (safetensors file).</param>
/// <param name="Resolution">Output width and height in pixels (a text-to-image model's: its final stage's).</param>
/// <param name="Labels">Class labels a request may name: a conditional generation model's classes; an aging model's
/// genders (its <c>gender</c> field).</param>
/// <param name="AgeGroups">An aging model's age groups, youngest first (its <c>targetAges</c>).</param>
/// <param name="Metrics">Quality figures from our own evaluation of this version.</param>
/// <param name="Config">The network's hyperparameters, as import takes them.</param>
public sealed record ModelDto(
    string Name, string Kind, string Family, string Version, bool IsDefault, int Resolution,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? Labels,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? AgeGroups,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Metrics,
    string Sha256,
    JsonElement Config);

public static class ModelsEndpoints
{
    public static IEndpointRouteBuilder MapModelsEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/models").WithTags("Models");
        group.MapGet("", ListAsync).RequireAuthorization(Policies.Jobs)
            .WithName("ListModels").WithSummary("List the models that can be served, with their quality figures");
        group.MapGet("/{name}", GetAsync).RequireAuthorization(Policies.Jobs)
            .WithName("GetModel").WithSummary("Get one model; name@version gives that version")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{name}/weights", WeightsAsync).RequireAuthorization(Policies.Admin)
            .WithName("ExportModelWeights").WithSummary("Export a version's weights (admin)")
            .WithDescription("The safetensors file with PyTorch key names, exactly as registered (its sha256 is the version). name@version picks a version; with GET /v1/models/{name}'s config it is what POST /v1/models/import takes.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/import", ImportAsync).RequireAuthorization(Policies.Admin)
            .WithName("ImportModel").WithSummary("Import a generator from safetensors + config (admin)")
            .WithDescription("multipart/form-data: `name`, `family` (dcgan | progan), `config` (JSON, as GET /v1/models/{name} shows it), `weights` (safetensors with PyTorch key names, e.g. pytorch/examples dcgan netG.state_dict() for DCGAN), optional `labels` (comma-separated) and `description`. The weights are checked against the network the config builds: every key with its shape and dtype, nothing extra, finite values. A mismatch answers 400 naming it, and nothing is registered. Registers a new version (its weights' sha256) and makes it current.")
            .Accepts<IFormFile>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .DisableAntiforgery()
            .WithMetadata(new RequestSizeLimitAttribute(app.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>().Value.MaxImportBytes + 1024 * 1024))
            .WithMetadata(new RequestFormLimitsAttribute { MultipartBodyLengthLimit = app.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>().Value.MaxImportBytes + 1024 * 1024 });
        return app;
    }

    private static ModelDto ToDto(ModelInfo m) => new(
        m.Name, m.Kind, m.Family, m.Version, m.IsDefault, m.Resolution,
        m.Labels.Length == 0 ? null : m.Labels, m.AgeGroups.Length == 0 ? null : m.AgeGroups, m.Description,
        m.Metrics is null ? null : JsonDocument.Parse(m.Metrics).RootElement.Clone(),
        m.Sha256, JsonDocument.Parse(m.Config).RootElement.Clone());

    private static async Task<Ok<List<ModelDto>>> ListAsync(ModelCatalog catalog, CancellationToken ct) =>
        TypedResults.Ok((await catalog.AllAsync(ct)).Select(ToDto).ToList());

    private static async Task<Results<Ok<ModelDto>, ProblemHttpResult>> GetAsync(string name, ModelCatalog catalog, CancellationToken ct)
    {
        var model = await catalog.ResolveAsync(name, kind: null, ct);
        return model is null ? NotFound(name) : TypedResults.Ok(ToDto(model));
    }

    private static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> WeightsAsync(string name, ModelCatalog catalog, GanDbContext db, CancellationToken ct)
    {
        var model = await catalog.ResolveAsync(name, kind: null, ct);
        if (model is null) return NotFound(name);
        var path = await db.ModelVersions.AsNoTracking().Where(v => v.Id == model.VersionId).Select(v => v.WeightsPath).FirstAsync(ct);
        if (!File.Exists(path))
            return TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "Weights gone", detail: $"The weights of {model.Name}@{model.Version} are no longer on this server.");
        return TypedResults.PhysicalFile(path, "application/octet-stream", $"{model.Name}-{model.Version}.safetensors",
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{model.Sha256}\""));
    }

    private static async Task<Results<Created<ModelDto>, ValidationProblem, ProblemHttpResult>> ImportAsync(
        HttpRequest request, ModelRegistry registry, ModelCatalog catalog, IOptions<StorageOptions> storage, IOptions<ApiOptions> options,
        ILogger<ModelRegistry> log, CancellationToken ct)
    {
        var (form, refusal) = await MultipartForms.ReadAsync(request,
            "POST /v1/models/import takes multipart/form-data with name, family, config and a weights file.", "The import is invalid.", ct);
        if (form is null) return refusal!;
        var errors = new Dictionary<string, string[]>();
        string name = form["name"].ToString().Trim();
        string family = form["family"].ToString().Trim();
        string config = form["config"].ToString();
        var weights = form.Files.GetFile("weights");
        if (ModelNames.Problem(name) is { } badName) errors["name"] = [badName];
        if (!ModelImport.Families.Contains(family)) errors["family"] = [$"family must be one of {string.Join(", ", ModelImport.Families)}, got '{family}'."];
        if (string.IsNullOrWhiteSpace(config)) errors["config"] = ["config (the network's hyperparameters as JSON) is required."];
        if (weights is null || weights.Length == 0) errors["weights"] = ["weights (a safetensors file) is required and must not be empty."];
        else if (weights.Length > options.Value.MaxImportBytes) errors["weights"] = [$"weights are {weights.Length} bytes; at most {options.Value.MaxImportBytes} are accepted."];
        string[]? labels = form.ContainsKey("labels")
            ? form["labels"].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : null;
        string? description = form.ContainsKey("description") ? form["description"].ToString() : null;
        if (description is { Length: > 500 }) errors["description"] = ["description must be at most 500 characters."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The import is invalid.");

        var tmp = Path.Combine(Path.GetFullPath(storage.Value.Root), "tmp", $"import-{Guid.NewGuid():N}.safetensors");
        Directory.CreateDirectory(Path.GetDirectoryName(tmp)!);
        try
        {
            await using (var file = File.Create(tmp))
                await weights!.CopyToAsync(file, ct);
            ImportedGenerator imported;
            try
            {
                imported = ModelImport.Validate(family, config, tmp);
            }
            catch (ModelImportException e)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [e.Field] = [e.Message] }, title: "The import is invalid.");
            }
            ModelVersion version;
            try
            {
                version = await registry.ImportAsync(name, family, description, labels, imported.Resolution, imported.NumClasses, imported.ConfigJson, tmp, ct);
            }
            catch (ArgumentException e) when (e.ParamName is not null)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [e.ParamName] = [e.Message.Split(" (Parameter")[0]] }, title: "The import is invalid.");
            }
            log.LogInformation("Imported {Family} model {Model} version {Version}", family, name, version.Version);
            catalog.Invalidate();
            var model = await catalog.ResolveAsync($"{name}@{version.Version}", JobKinds.Generation, ct)
                ?? throw new InvalidOperationException($"model {name} was registered but cannot be read back.");
            return TypedResults.Created($"/v1/models/{name}", ToDto(model));
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    private static ProblemHttpResult NotFound(string name) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Model not found",
            detail: $"No model '{name}' (or no such version). GET /v1/models lists them.");
}
