using GanService.Api.Auth;
using GanService.Core.Datasets;
using GanService.Models;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace GanService.Api.Endpoints;

public static class DatasetsEndpoints
{
    public static IEndpointRouteBuilder MapDatasetsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/datasets").WithTags("Training").RequireAuthorization(Policies.Admin)
            .MapGet("", List)
            .WithName("ListDatasets")
            .WithSummary("List the training datasets (admin)")
            .WithDescription("Each dataset with its resolution, classes, source, licence, the command that fetches it, and whether this server has it (per set for emoji, with image counts).");
        return app;
    }

    private static Ok<IReadOnlyList<DatasetInfo>> List(IOptions<DatasetOptions> options) =>
        TypedResults.Ok(DatasetCatalog.All(Path.GetFullPath(options.Value.Root)));
}
