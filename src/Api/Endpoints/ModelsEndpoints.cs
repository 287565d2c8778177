using System.Text.Json;
using System.Text.Json.Serialization;
using GanService.Api.Auth;
using GanService.Api.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GanService.Api.Endpoints;

/// <summary>A servable model.</summary>
/// <param name="Version">Current version: first 12 hex digits of the weights' sha256.</param>
/// <param name="Resolution">Output width and height in pixels.</param>
/// <param name="Labels">Class labels a request may name (conditional models).</param>
/// <param name="Metrics">Quality figures from our own evaluation of this version.</param>
public sealed record ModelDto(
    string Name, string Kind, string Family, string Version, bool IsDefault, int Resolution,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? Labels,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Metrics);

public static class ModelsEndpoints
{
    public static IEndpointRouteBuilder MapModelsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/models").WithTags("Models").RequireAuthorization(Policies.Jobs)
            .MapGet("", ListAsync)
            .WithName("ListModels").WithSummary("List the models that can be served, with their quality figures");
        return app;
    }

    private static async Task<Ok<List<ModelDto>>> ListAsync(ModelCatalog catalog, CancellationToken ct) =>
        TypedResults.Ok((await catalog.AllAsync(ct)).Select(m => new ModelDto(
            m.Name, m.Kind, m.Family, m.Version, m.IsDefault, m.Resolution,
            m.Labels.Length == 0 ? null : m.Labels, m.Description,
            m.Metrics is null ? null : JsonDocument.Parse(m.Metrics).RootElement.Clone())).ToList());
}
