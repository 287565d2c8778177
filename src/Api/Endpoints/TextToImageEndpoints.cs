using System.ComponentModel;
using System.Text.Json;
using GanService.Api.Auth;
using GanService.Api.Infrastructure;
using GanService.Api.Jobs;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Webhooks;
using GanService.Models.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GanService.Api.Endpoints;

/// <summary>Body of POST /v1/text-to-image.</summary>
/// <param name="Prompt">What to draw: 1..256 characters (Unicode code points), no control characters but tab and line
/// breaks. It is normalised (NFKC, lower case, whitespace collapsed) before it is tokenised; words the model's
/// vocabulary lacks are read as an unknown token, and the text encoder reads at most 24 tokens.</param>
/// <param name="Count">Number of images, 1..16. Image i uses seed + i.</param>
/// <param name="Seed">64-bit seed; omitted means a random one, reported back in the job's input.</param>
/// <param name="Model">Text-to-image model name (GET /v1/models, kind text-to-image); omitted means the default one.
/// <c>name@version</c> pins a version.</param>
/// <param name="IncludeStageOne">Also return each seed's 64 px Stage-I image (label <c>stage-one</c>) after the final
/// images; only for a model with a Stage-II.</param>
/// <param name="Format">png, webp or jpeg.</param>
/// <param name="Webhook">As POST /v1/generations.</param>
/// <param name="WebhookEvents">Any of start, progress, completed; default completed.</param>
public sealed record TextToImageRequest(
    string? Prompt = null,
    [property: DefaultValue(1)] int? Count = null,
    long? Seed = null,
    string? Model = null,
    [property: DefaultValue(false)] bool? IncludeStageOne = null,
    [property: DefaultValue("png")] string? Format = null,
    string? Webhook = null,
    string[]? WebhookEvents = null);

public static class TextToImageEndpoints
{
    public const int MaxCount = 16, MaxPromptLength = 256;

    public static IEndpointRouteBuilder MapTextToImageEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/text-to-image").WithTags("Text to image").RequireAuthorization(Policies.Jobs);
        group.MapPost("", CreateAsync)
            .WithName("CreateTextToImage")
            .WithSummary("Draw images from a text prompt (StackGAN)")
            .WithDescription("Queues a text-to-image job. Its outputs are `count` final images, image i drawn with seed + i: label `stage-two` at the model's resolution, or `stage-one` at 64 px when the model has only Stage-I. With `includeStageOne`, each seed's 64 px Stage-I image follows (label `stage-one`). The prompt is normalised (NFKC, lower case, whitespace collapsed); words the vocabulary lacks are read as an unknown token and never fail the job. The text encoder reads at most 24 tokens: the finished job's `detail` reports `promptTokens`, `unknownTokens` and `truncated`. `Prefer: wait=N`, `Idempotency-Key` and `Cancel-After` work as on POST /v1/generations.")
            .Accepts<TextToImageRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithRequestLimit(app);
        return app;
    }

    private static async Task<Results<Ok<JobDto>, Accepted<JobDto>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        TextToImageRequest request,
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
        var model = await catalog.ResolveAsync(request.Model, JobKinds.TextToImage, ct);
        if (model is null)
        {
            var other = request.Model is null ? null : await catalog.ResolveAsync(request.Model, null, ct);
            errors["model"] = [request.Model is null ? "No default text-to-image model is registered."
                : other is not null ? $"'{other.Name}' is a{(other.Kind == JobKinds.Aging ? "n" : "")} {other.Kind} model; text-to-image needs a text-to-image model."
                : $"Unknown text-to-image model or version '{request.Model}'. GET /v1/models lists them (kind text-to-image)."];
        }
        if (PromptError(request.Prompt) is { } promptError) errors["prompt"] = [promptError];
        int count = request.Count ?? 1;
        if (count is < 1 or > MaxCount) errors["count"] = [$"count must be between 1 and {MaxCount}, got {count}."];
        string format = (request.Format ?? "png").ToLowerInvariant();
        if (!ImageFormats.ContentTypes.ContainsKey(format)) errors["format"] = [$"format must be one of {string.Join(", ", ImageFormats.ContentTypes.Keys)}, got '{request.Format}'."];
        bool includeStageOne = request.IncludeStageOne ?? false;
        // A model without Stage-II would silently ignore it (its finals are the Stage-I images): refuse it instead.
        if (includeStageOne && model is not null && !HasStageTwo(model))
            errors["includeStageOne"] = [$"Model '{model.Name}' has only Stage-I: its outputs are the 64 px images already."];
        var common = await JobCommon.ValidateAsync(idempotencyKey, cancelAfter, request.Webhook, request.WebhookEvents, targets, errors, ct);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The request is invalid.");

        // The prompt is stored as sent; the worker normalises it again when it tokenises.
        var input = new TextToImageInput(request.Prompt!, count, request.Seed ?? Random.Shared.NextInt64(0, 1L << 53), includeStageOne, format);
        var job = common.NewJob(JobKinds.TextToImage, http, model!.Name, model, input);
        var fingerprint = JsonSerializer.Serialize(request, JsonSerializerOptions.Web);
        return await JobResponses.SubmitAsync(job, common.IdempotencyKey, fingerprint, http, submitter, reader, views, options.Value, ct);
    }

    /// <summary>What is wrong with the prompt, or null. Lone surrogates would make the worker's NFKC throw, and
    /// Postgres' jsonb refuses \u0000, so both are refused here rather than failing later.</summary>
    private static string? PromptError(string? prompt)
    {
        if (prompt is null) return $"prompt (1..{MaxPromptLength} characters of text) is required.";
        for (int i = 0; i < prompt.Length; i++)
        {
            if (!char.IsSurrogate(prompt[i])) continue;
            if (!char.IsSurrogatePair(prompt, i)) return "prompt is not valid Unicode text.";
            i++;
        }
        if (prompt.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r'))) return "prompt must not contain control characters.";
        int length = prompt.EnumerateRunes().Count();
        if (length is < 1 or > MaxPromptLength) return $"prompt must be 1..{MaxPromptLength} characters, got {length}.";
        try
        {
            if (CaptionTokenizer.Normalize(prompt).Length == 0) return "prompt has no text.";
        }
        catch (ArgumentException)
        {
            return "prompt is not valid Unicode text.";
        }
        return null;
    }

    /// <summary>Whether a text-to-image model has a Stage-II: its config's <c>stageTwo</c> is an object.</summary>
    public static bool HasStageTwo(ModelInfo model)
    {
        using var config = JsonDocument.Parse(model.Config);
        return config.RootElement.ValueKind == JsonValueKind.Object
            && config.RootElement.TryGetProperty("stageTwo", out var stageTwo) && stageTwo.ValueKind == JsonValueKind.Object;
    }
}
