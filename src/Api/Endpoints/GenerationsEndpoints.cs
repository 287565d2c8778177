using System.ComponentModel;
using System.Text.Json;
using GanService.Api.Auth;
using GanService.Api.Infrastructure;
using GanService.Api.Jobs;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GanService.Api.Endpoints;

/// <summary>Body of POST /v1/generations.</summary>
/// <param name="Model">Generation model name (GET /v1/models); omitted means the default one. <c>name@version</c> pins a
/// version (its 12 hex digits or full sha256); otherwise the model's current version serves.</param>
/// <param name="Count">Number of images, 1..64. Image i uses seed + i.</param>
/// <param name="Seed">64-bit seed; omitted means a random one, reported back in the job's input.</param>
/// <param name="Label">Class to draw (one of the model's labels); omitted means label (seed + i) mod classes for image i.</param>
/// <param name="Truncation">Latent scale ψ in (0, 1]: lower trades variety for typicality (DCGAN models; ProGAN models
/// normalise z and take only 1).</param>
/// <param name="Format">png, webp or jpeg.</param>
/// <param name="Webhook">URL called (POST, signed as Standard Webhooks do with this key's secret from GET
/// /v1/webhooks/secret) when the job reaches the events in <c>webhookEvents</c>; public addresses only unless the
/// server allows more.</param>
/// <param name="WebhookEvents">Any of start, progress, completed; default completed.</param>
public sealed record GenerationRequest(
    string? Model = null,
    [property: DefaultValue(1)] int? Count = null,
    long? Seed = null,
    string? Label = null,
    [property: DefaultValue(1.0)] double? Truncation = null,
    [property: DefaultValue("png")] string? Format = null,
    string? Webhook = null,
    string[]? WebhookEvents = null);

public static class GenerationsEndpoints
{
    public const int MaxCount = 64;

    public static IEndpointRouteBuilder MapGenerationsEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/generations").WithTags("Generations").RequireAuthorization(Policies.Jobs);
        group.MapPost("", CreateAsync)
            .WithName("CreateGeneration")
            .WithSummary("Generate images from a seed")
            .WithDescription("Queues a generation job. Send `Prefer: wait=N` to hold the request until the job finishes (up to 60 s), `Idempotency-Key` to make retries safe, and `Cancel-After: S` (1..86400) to have it canceled if it has not started within S seconds.")
            .Accepts<GenerationRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithRequestLimit(app);
        return app;
    }

    private static async Task<Results<Ok<JobDto>, Accepted<JobDto>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        GenerationRequest request,
        HttpContext http,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        [FromHeader(Name = "Cancel-After")] string? cancelAfter,
        ModelCatalog catalog,
        JobSubmitter submitter,
        JobReader reader,
        JobViews views,
        WebhookTargets targets,
        IOptions<ApiOptions> options,
        CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var model = await catalog.ResolveAsync(request.Model, JobKinds.Generation, ct);
        if (model is null)
            errors["model"] = [request.Model is null ? "No default generation model is registered."
                : request.Model.Contains('@') ? $"Unknown generation model or version '{request.Model}': give name@version with the version's 12 hex digits or full sha256. GET /v1/models lists them."
                : $"Unknown generation model '{request.Model}'. GET /v1/models lists them."];
        int count = request.Count ?? 1;
        if (count is < 1 or > MaxCount) errors["count"] = [$"count must be between 1 and {MaxCount}, got {count}."];
        double truncation = request.Truncation ?? 1.0;
        if (!(truncation > 0 && truncation <= 1)) errors["truncation"] = [$"truncation must be in (0, 1], got {truncation}."];
        // ProGAN pixel-normalises z before its first layer, so scaling z (the truncation trick as done here) would
        // change nothing: refuse it rather than accept a parameter that is silently ignored.
        else if (truncation != 1.0 && model is { Family: "progan" })
            errors["truncation"] = [$"Model '{model.Name}' (progan) normalises its latent, so truncation has no effect on it; omit it or send 1."];
        string format = (request.Format ?? "png").ToLowerInvariant();
        if (!ImageFormats.ContentTypes.ContainsKey(format)) errors["format"] = [$"format must be one of {string.Join(", ", ImageFormats.ContentTypes.Keys)}, got '{request.Format}'."];
        string? label = request.Label is not null && model is not null ? model.ResolveLabel(request.Label, errors) : null;
        var common = await JobCommon.ValidateAsync(idempotencyKey, cancelAfter, request.Webhook, request.WebhookEvents, targets, errors, ct);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The request is invalid.");

        var input = new GenerationInput(count, request.Seed ?? Random.Shared.NextInt64(0, 1L << 53), label, truncation, format);
        var job = common.NewJob(JobKinds.Generation, http, model!.Name, model, input);
        var fingerprint = JsonSerializer.Serialize(request, JsonSerializerOptions.Web);
        return await JobResponses.SubmitAsync(job, common.IdempotencyKey, fingerprint, http, submitter, reader, views, options.Value, ct);
    }
}
