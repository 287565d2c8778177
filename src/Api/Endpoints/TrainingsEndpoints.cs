using System.ComponentModel;
using System.Text.Json;
using GanService.Api.Auth;
using GanService.Api.Infrastructure;
using GanService.Api.Jobs;
using GanService.Core.Data;
using GanService.Core.Datasets;
using GanService.Models;
using GanService.Core.Jobs;
using GanService.Core.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Api.Endpoints;

/// <summary>Body of POST /v1/trainings. Every field but <c>dataset</c> has a default.</summary>
/// <param name="Family">What to train: progan (the only family trainable as a job; DCGAN is trained with the train-dcgan command).</param>
/// <param name="Dataset">fashion-mnist or emoji (GET /v1/datasets).</param>
/// <param name="Name">Model name to register the result under (a new version when it exists); default progan-&lt;dataset&gt;.</param>
/// <param name="Sets">Emoji sets to train on; default every set this server has.</param>
/// <param name="Resolution">Final resolution, a power of two from 8 to the dataset's own (emoji 64, fashion-mnist 32).</param>
/// <param name="StableKimg">Thousands of images shown per stabilising phase, (0, 10000].</param>
/// <param name="FadeKimg">Thousands of images shown per fade-in phase, [0, 10000].</param>
/// <param name="Progressive">false trains the final resolution from the start (the paper's baseline).</param>
/// <param name="Evaluate">Score the result (Fréchet distance in the dataset classifier's features) and store it as the version's metrics.</param>
/// <param name="Webhook">URL called (POST, signed as Standard Webhooks do with this key's secret from GET
/// /v1/webhooks/secret) when the job reaches the events in <c>webhookEvents</c>; public addresses only unless the
/// server allows more.</param>
/// <param name="WebhookEvents">Any of start, progress, completed; default completed.</param>
public sealed record TrainingRequest(
    [property: DefaultValue("progan")] string? Family = null,
    [property: DefaultValue("fashion-mnist")] string? Dataset = null,
    string? Name = null,
    string[]? Sets = null,
    int? Resolution = null,
    [property: DefaultValue(128)] int? LatentDim = null,
    [property: DefaultValue(512)] int? FmapBase = null,
    [property: DefaultValue(64)] int? FmapMax = null,
    [property: DefaultValue(30.0)] double? StableKimg = null,
    [property: DefaultValue(30.0)] double? FadeKimg = null,
    [property: DefaultValue(16)] int? BatchSize = null,
    long? Seed = null,
    [property: DefaultValue(true)] bool? Progressive = null,
    [property: DefaultValue(true)] bool? Evaluate = null,
    string? Webhook = null,
    string[]? WebhookEvents = null);

public static class TrainingsEndpoints
{
    public const double MaxKimg = 10_000;
    public static IReadOnlyList<string> Families { get; } = ["progan"];

    public static IEndpointRouteBuilder MapTrainingsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/trainings").WithTags("Training").RequireAuthorization(Policies.Admin)
            .MapPost("", CreateAsync)
            .WithName("CreateTraining")
            .WithSummary("Train a Progressive GAN as a job (admin)")
            .WithDescription("Queues a training on the training queue. GET /v1/jobs/{id} shows progress (step, kimg, resolution, α, losses, images/s in `detail`); POST /v1/jobs/{id}/cancel stops it. When it finishes, the weights are registered as a new version of `name` (with their sha256 and evaluation metrics) and a sample grid is the job's output. A worker killed mid-run resumes from its last checkpoint.")
            .Accepts<TrainingRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithRequestLimit(app);
        return app;
    }

    private static async Task<Results<Ok<JobDto>, Accepted<JobDto>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        TrainingRequest request,
        HttpContext http,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        [FromHeader(Name = "Cancel-After")] string? cancelAfter,
        GanDbContext db,
        IOptions<DatasetOptions> datasets,
        JobSubmitter submitter,
        JobReader reader,
        JobViews views,
        WebhookTargets targets,
        IOptions<ApiOptions> options,
        CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        string family = request.Family ?? "progan";
        if (!Families.Contains(family))
            errors["family"] = [$"Unknown or untrainable family '{family}'. Trainable as a job: {string.Join(", ", Families)} (DCGAN is trained with the train-dcgan command)."];

        DatasetInfo? dataset = null;
        if (request.Dataset is null) errors["dataset"] = [$"dataset is required: one of {string.Join(", ", DatasetCatalog.Names)}."];
        else if ((dataset = DatasetCatalog.Describe(request.Dataset, Path.GetFullPath(datasets.Value.Root))) is null)
            errors["dataset"] = [$"Unknown dataset '{request.Dataset}'. Known: {string.Join(", ", DatasetCatalog.Names)} (GET /v1/datasets)."];
        else if (!dataset.Fetched)
            errors["dataset"] = [$"Dataset '{dataset.Name}' is not on this server: run {dataset.FetchCommand}."];

        string[] sets = [];
        if (dataset is { Name: DatasetCatalog.Emoji, Fetched: true })
        {
            sets = request.Sets ?? dataset.Sets.Where(s => s.Fetched).Select(s => s.Name).ToArray();
            var bad = sets.Where(s => dataset.Sets.FirstOrDefault(d => d.Name == s) is not { Fetched: true }).ToArray();
            if (sets.Length == 0 || bad.Length > 0)
                errors["sets"] = [$"sets must name emoji sets this server has ({string.Join(", ", dataset.Sets.Where(s => s.Fetched).Select(s => s.Name))}), got {(bad.Length > 0 ? string.Join(", ", bad) : "none")}."];
        }
        else if (dataset is not null && request.Sets is { Length: > 0 })
            errors["sets"] = [$"Dataset '{dataset.Name}' has no sets."];

        int native = dataset?.Resolution ?? 64;
        int resolution = request.Resolution ?? native;
        if (resolution < 8 || resolution > native || (resolution & (resolution - 1)) != 0)
            errors["resolution"] = [$"resolution must be a power of two from 8 to {native}, got {resolution}."];
        Range(errors, "latentDim", request.LatentDim ?? 128, 1, 1024);
        Range(errors, "fmapBase", request.FmapBase ?? 512, 8, 8192);
        Range(errors, "fmapMax", request.FmapMax ?? 64, 1, 512);
        Range(errors, "batchSize", request.BatchSize ?? 16, 2, 256);
        double stable = request.StableKimg ?? 30, fade = request.FadeKimg ?? 30;
        if (!(stable > 0 && stable <= MaxKimg)) errors["stableKimg"] = [$"stableKimg must be in (0, {MaxKimg}], got {stable}."];
        if (!(fade >= 0 && fade <= MaxKimg)) errors["fadeKimg"] = [$"fadeKimg must be in [0, {MaxKimg}], got {fade}."];

        string name = (request.Name ?? $"{family}-{dataset?.Name ?? request.Dataset}").Trim();
        if (ModelNames.Problem(name) is { } badName)
            errors["name"] = [badName];
        else if (await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Name == name, ct) is { } existing
                 && (existing.Family != family || existing.Kind != JobKinds.Generation))
            errors["name"] = [$"Model '{name}' exists as a {existing.Family} {existing.Kind} model; pick another name."];
        var common = await JobCommon.ValidateAsync(idempotencyKey, cancelAfter, request.Webhook, request.WebhookEvents, targets, errors, ct);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The training request is invalid.");

        var input = new TrainingInput(family, dataset!.Name, sets, resolution, request.LatentDim ?? 128, request.FmapBase ?? 512,
            request.FmapMax ?? 64, stable, fade, request.BatchSize ?? 16, request.Seed ?? Random.Shared.NextInt64(1, 1L << 53),
            request.Progressive ?? true, request.Evaluate ?? true);
        var job = common.NewJob(JobKinds.Training, http, name, model: null, input);
        var fingerprint = JsonSerializer.Serialize(request, JsonSerializerOptions.Web);
        return await JobResponses.SubmitAsync(job, common.IdempotencyKey, fingerprint, http, submitter, reader, views, options.Value, ct);
    }

    private static void Range(Dictionary<string, string[]> errors, string field, int value, int min, int max)
    {
        if (value < min || value > max) errors[field] = [$"{field} must be between {min} and {max}, got {value}."];
    }
}
