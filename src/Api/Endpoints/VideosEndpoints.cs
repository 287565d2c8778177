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
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Api.Endpoints;

/// <summary>Body of POST /v1/videos.</summary>
/// <param name="Model">A video model (kind video, GET /v1/models) draws a clip from <c>seed</c>; an image-generation model
/// makes a latent walk from <c>fromSeed</c> to <c>toSeed</c>. Omitted means the default video model. <c>name@version</c>
/// pins a version.</param>
/// <param name="Seed">Video model: 64-bit seed of the clip; omitted means a random one, reported back in the job's input.</param>
/// <param name="Frames">Video model: 2 up to the frames it draws (its default). Latent walk: 2..120, default 16.</param>
/// <param name="Format">gif, webp (animated, looping) or mp4 (H.264; only when a worker has ffmpeg).</param>
/// <param name="Fps">Playback rate, 1..60.</param>
/// <param name="FromSeed">Latent walk: the seed of the first frame (as POST /v1/generations draws it).</param>
/// <param name="ToSeed">Latent walk: the seed of the last frame.</param>
/// <param name="Label">Latent walk on a class-conditional model: the class every frame shows; omitted means
/// (fromSeed mod classes).</param>
/// <param name="Webhook">As POST /v1/generations.</param>
/// <param name="WebhookEvents">Any of start, progress, completed; default completed.</param>
public sealed record VideoRequest(
    string? Model = null,
    long? Seed = null,
    int? Frames = null,
    [property: DefaultValue("gif")] string? Format = null,
    [property: DefaultValue(8)] int? Fps = null,
    long? FromSeed = null,
    long? ToSeed = null,
    string? Label = null,
    string? Webhook = null,
    string[]? WebhookEvents = null);

public static class VideosEndpoints
{
    public const int MaxWalkFrames = 120, DefaultWalkFrames = 16, MaxFps = 60;

    /// <summary>mp4 is accepted when a worker that can write it (has ffmpeg) has been seen this recently.</summary>
    public static readonly TimeSpan Mp4WorkerWindow = TimeSpan.FromMinutes(10);

    public static IEndpointRouteBuilder MapVideosEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/videos").WithTags("Videos").RequireAuthorization(Policies.Jobs);
        group.MapPost("", CreateAsync)
            .WithName("CreateVideo")
            .WithSummary("Generate a short video, or a latent walk of an image model")
            .WithDescription("With a video model (VGAN): a clip from `seed`; the job's outputs are the video (label `video`), its static background as a PNG (`background`) and the foreground mask as a video (`mask`), so the two-stream decomposition can be seen. With an image-generation model and `fromSeed`/`toSeed`: a latent walk, one frame per point on the great circle between the two seeds' latents (label `walk`). Video outputs carry `frames`. `Prefer: wait=N`, `Idempotency-Key` and `Cancel-After` work as on POST /v1/generations.")
            .Accepts<VideoRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithRequestLimit(app);
        return app;
    }

    private static async Task<Results<Ok<JobDto>, Accepted<JobDto>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        VideoRequest request,
        HttpContext http,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        [FromHeader(Name = "Cancel-After")] string? cancelAfter,
        ModelCatalog catalog,
        GanDbContext db,
        JobSubmitter submitter,
        JobReader reader,
        JobViews views,
        WebhookTargets targets,
        IOptions<ApiOptions> options,
        CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var model = request.Model is null ? await catalog.ResolveAsync(null, JobKinds.Video, ct) : await catalog.ResolveAsync(request.Model, null, ct);
        bool walk = false;
        int frames = 0;
        if (model is null)
            errors["model"] = [request.Model is null ? "No default video model is registered."
                : $"Unknown model '{request.Model}'. GET /v1/models lists them (kind video, or kind generation for a latent walk)."];
        else if (model.Kind == JobKinds.Generation)
        {
            walk = true;
            if (request.FromSeed is null) errors["fromSeed"] = [$"'{model.Name}' is an image-generation model: a latent walk needs fromSeed and toSeed."];
            if (request.ToSeed is null) errors["toSeed"] = [$"'{model.Name}' is an image-generation model: a latent walk needs fromSeed and toSeed."];
            if (request.Seed is not null) errors["seed"] = ["A latent walk takes fromSeed and toSeed, not seed."];
            frames = request.Frames ?? DefaultWalkFrames;
            if (frames is < 2 or > MaxWalkFrames) errors["frames"] = [$"frames must be between 2 and {MaxWalkFrames} for a latent walk, got {frames}."];
        }
        else if (model.Kind == JobKinds.Video)
        {
            int modelFrames = ModelFrames(model);
            if (request.FromSeed is not null || request.ToSeed is not null)
                errors[request.FromSeed is not null ? "fromSeed" : "toSeed"] = [$"'{model.Name}' is a video model: it draws a clip from seed. fromSeed and toSeed make a latent walk of an image-generation model."];
            if (request.Label is not null) errors["label"] = [$"'{model.Name}' is unconditional: it takes no label."];
            frames = request.Frames ?? modelFrames;
            if (frames < 2 || frames > modelFrames) errors["frames"] = [$"frames must be between 2 and {modelFrames} (the clip '{model.Name}' draws), got {frames}."];
        }
        else
            errors["model"] = [$"'{model.Name}' is a{(model.Kind == JobKinds.Aging ? "n" : "")} {model.Kind} model and cannot make a video: give a video model, or an image-generation model with fromSeed and toSeed."];

        string? label = walk && request.Label is not null && model is not null ? model.ResolveLabel(request.Label, errors) : null;
        string format = (request.Format ?? "gif").ToLowerInvariant();
        if (!VideoFormats.ContentTypes.ContainsKey(format))
            errors["format"] = [$"format must be one of {string.Join(", ", VideoFormats.ContentTypes.Keys)}, got '{request.Format}'."];
        else if (format == VideoFormats.Mp4 && !await Mp4WorkerAsync(db, ct))
            errors["format"] = ["mp4 needs ffmpeg on a worker, and no worker seen in the last 10 minutes has it; ask for gif or webp (or install ffmpeg on the workers)."];
        int fps = request.Fps ?? 8;
        if (fps is < 1 or > MaxFps) errors["fps"] = [$"fps must be between 1 and {MaxFps}, got {fps}."];
        var common = await JobCommon.ValidateAsync(idempotencyKey, cancelAfter, request.Webhook, request.WebhookEvents, targets, errors, ct);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The request is invalid.");

        var input = walk
            ? new VideoInput(frames, format, fps, null, request.FromSeed, request.ToSeed, label)
            : new VideoInput(frames, format, fps, request.Seed ?? Random.Shared.NextInt64(0, 1L << 53), null, null, null);
        var job = common.NewJob(JobKinds.Video, http, model!.Name, model, input);
        var fingerprint = JsonSerializer.Serialize(request, JsonSerializerOptions.Web);
        return await JobResponses.SubmitAsync(job, common.IdempotencyKey, fingerprint, http, submitter, reader, views, options.Value, ct);
    }

    /// <summary>The frames a video model draws, from its config.</summary>
    public static int ModelFrames(ModelInfo model)
    {
        using var config = JsonDocument.Parse(model.Config);
        return config.RootElement.TryGetProperty("frames", out var f) && f.TryGetInt32(out int n) ? n : 0;
    }

    private static Task<bool> Mp4WorkerAsync(GanDbContext db, CancellationToken ct)
    {
        var since = DateTimeOffset.UtcNow - Mp4WorkerWindow;
        return db.Workers.AsNoTracking().AnyAsync(w => w.HeartbeatAt > since && w.VideoFormats.Contains(VideoFormats.Mp4), ct);
    }
}
