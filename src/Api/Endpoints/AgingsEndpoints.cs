using System.ComponentModel;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using GanService.Api.Auth;
using GanService.Api.Infrastructure;
using GanService.Api.Jobs;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Storage;
using GanService.Core.Webhooks;
using GanService.Models.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GanService.Api.Endpoints;

/// <summary>The multipart/form-data fields of POST /v1/agings (documentation: the endpoint reads the form itself, so
/// that every field's problem is named).</summary>
/// <param name="Image">The face: PNG, JPEG or WebP (sniffed from the bytes), at most 10 MiB, 4096 px a side and 16
/// megapixels (Uploads:*). EXIF orientation is applied, transparency composited on white, and the largest centred
/// square resized to the model's resolution.</param>
/// <param name="TargetAges">Comma-separated age groups of the model (GET /v1/models: ageGroups), e.g. baby,older;
/// default all of them. One output per group, in the order given.</param>
/// <param name="Gender">One of the model's labels (unspecified, male, female): the gender the face is drawn with
/// (babies are drawn without one). Default unspecified.</param>
/// <param name="Model">Aging model name; omitted means the default one. name@version pins a version.</param>
/// <param name="Seed">Recorded with every output. The CAAE maps a face to its outputs deterministically: the same image
/// gives the same pixels whatever the seed.</param>
/// <param name="Format">png, webp or jpeg.</param>
/// <param name="Strip">true adds one more output: the input as the model saw it, then the face at every target age,
/// side by side.</param>
/// <param name="Webhook">As for generations: URL called when the job reaches the events in webhookEvents.</param>
/// <param name="WebhookEvents">Comma-separated: any of start, progress, completed; default completed.</param>
public sealed record AgingForm(
    [property: System.ComponentModel.DataAnnotations.Required] IFormFile Image,
    string? TargetAges = null,
    [property: DefaultValue("unspecified")] string? Gender = null,
    string? Model = null,
    long? Seed = null,
    [property: DefaultValue("png")] string? Format = null,
    [property: DefaultValue(false)] bool? Strip = null,
    string? Webhook = null,
    string? WebhookEvents = null);

public static class AgingsEndpoints
{
    private static readonly HashSet<string> Fields = new(StringComparer.OrdinalIgnoreCase)
    {
        "image", "targetAges", "gender", "model", "seed", "format", "strip", "webhook", "webhookEvents",
    };

    public static IEndpointRouteBuilder MapAgingsEndpoints(this IEndpointRouteBuilder app)
    {
        // The multipart body may carry the 10 MiB image and a little more; Kestrel stops reading past this.
        long maxBody = app.ServiceProvider.GetRequiredService<IOptions<UploadOptions>>().Value.MaxBytes + 64 * 1024;
        app.MapGroup("/v1/agings").WithTags("Agings").RequireAuthorization(Policies.Jobs)
            .MapPost("", CreateAsync)
            .WithName("CreateAging")
            .WithSummary("Upload a face and get it back at other ages")
            .WithDescription("Queues an aging job (CAAE). multipart/form-data with an `image` file and optional `targetAges`, `gender`, `model`, `seed`, `format`, `strip`, `webhook`, `webhookEvents`. The upload is checked from its header before anything is decoded or queued: not an image, truncated or empty → 400; GIF, BMP and other formats → 415; over 10 MiB, 4096 px a side or 16 MP → 413. The upload is kept as the job's input file (`inputUrl`) for as long as its outputs. `Prefer: wait`, `Idempotency-Key` and `Cancel-After` work as for generations.")
            .Accepts<AgingForm>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .DisableAntiforgery()
            .WithMetadata(new RequestSizeLimitAttribute(maxBody))
            .WithMetadata(new RequestFormLimitsAttribute { MultipartBodyLengthLimit = maxBody, ValueCountLimit = 64 });
        return app;
    }

    private static async Task<Results<Ok<JobDto>, Accepted<JobDto>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpContext http,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        [FromHeader(Name = "Cancel-After")] string? cancelAfter,
        ModelCatalog catalog,
        JobSubmitter submitter,
        JobReader reader,
        JobViews views,
        WebhookTargets targets,
        IBlobStore blobs,
        IOptions<UploadOptions> uploads,
        IOptions<ApiOptions> options,
        CancellationToken ct)
    {
        var (form, refusal) = await MultipartForms.ReadAsync(http.Request,
            "POST /v1/agings takes multipart/form-data with an image file and optional targetAges, gender, model, seed, format and strip.",
            "The request is invalid.", ct);
        if (form is null) return refusal!;

        var errors = new Dictionary<string, string[]>();
        foreach (var unknown in form.Keys.Concat(form.Files.Select(f => f.Name)).Where(k => !Fields.Contains(k)).Distinct())
            errors[unknown] = [$"Unknown field '{unknown}'. Fields: {string.Join(", ", Fields)}."];
        foreach (var repeated in form.Keys.Where(k => form[k].Count > 1 && !k.Equals("targetAges", StringComparison.OrdinalIgnoreCase)))
            errors[repeated] = [$"'{repeated}' was sent {form[repeated].Count} times; send it once."];

        string? modelName = Field(form, "model");
        var model = await catalog.ResolveAsync(modelName, JobKinds.Aging, ct);
        if (model is null)
            errors["model"] = [modelName is null ? "No aging model is registered."
                : $"Unknown aging model or version '{modelName}'. GET /v1/models lists them (kind aging)."];

        string[] targetAges = [];
        var rawAges = form["targetAges"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToArray();
        if (model is not null)
        {
            var unknownAges = rawAges.Where(a => !model.AgeGroups.Contains(a, StringComparer.OrdinalIgnoreCase)).ToArray();
            if (form.ContainsKey("targetAges") && rawAges.Length == 0) errors["targetAges"] = [$"targetAges is empty; name one or more of {string.Join(", ", model.AgeGroups)}, or leave it out for all."];
            else if (unknownAges.Length > 0) errors["targetAges"] = [$"Unknown age group(s) '{string.Join("', '", unknownAges)}'. Age groups of '{model.Name}': {string.Join(", ", model.AgeGroups)}."];
            else targetAges = rawAges.Length == 0 ? model.AgeGroups
                : rawAges.Select(a => model.AgeGroups.First(g => g.Equals(a, StringComparison.OrdinalIgnoreCase))).Distinct().ToArray();
        }

        string? gender = null;
        string? rawGender = Field(form, "gender");
        if (model is not null)
        {
            gender = rawGender is null ? (model.Labels.Contains("unspecified") ? "unspecified" : model.Labels.FirstOrDefault())
                : model.Labels.FirstOrDefault(l => l.Equals(rawGender, StringComparison.OrdinalIgnoreCase));
            if (gender is null) errors["gender"] = [$"Unknown gender '{rawGender}'. Genders of '{model.Name}': {string.Join(", ", model.Labels)}."];
        }

        long seed = Random.Shared.NextInt64(0, 1L << 53);
        if (Field(form, "seed") is { } rawSeed && !long.TryParse(rawSeed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out seed))
            errors["seed"] = [$"seed must be a 64-bit integer, got '{rawSeed}'."];
        string format = (Field(form, "format") ?? "png").ToLowerInvariant();
        if (!ImageFormats.ContentTypes.ContainsKey(format)) errors["format"] = [$"format must be one of {string.Join(", ", ImageFormats.ContentTypes.Keys)}, got '{Field(form, "format")}'."];
        bool strip = false;
        if (Field(form, "strip") is { } rawStrip && !TryParseBool(rawStrip, out strip))
            errors["strip"] = [$"strip must be true or false, got '{rawStrip}'."];
        string[]? events = Field(form, "webhookEvents")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var common = await JobCommon.ValidateAsync(idempotencyKey, cancelAfter, Field(form, "webhook"), events, targets, errors, ct);

        // The image last: its header is read, never decoded here (the request size limit bounds what is read).
        var limits = uploads.Value;
        var files = form.Files.GetFiles("image");
        byte[]? image = null;
        ImageHeader? header = null;
        int imageStatus = StatusCodes.Status400BadRequest;
        if (files.Count == 0)
            errors["image"] = [form.ContainsKey("image") ? "image must be a file part (Content-Disposition with a filename), not a text field." : "image (a PNG, JPEG or WebP file) is required."];
        else if (files.Count > 1) errors["image"] = [$"Send one image; {files.Count} were sent."];
        else
        {
            image = new byte[files[0].Length];
            await using (var stream = files[0].OpenReadStream()) await stream.ReadExactlyAsync(image, ct);
            try
            {
                header = UploadedImage.Inspect(image, new UploadLimits(limits.MaxBytes, limits.MaxSide, limits.MaxPixels));
            }
            catch (UploadRejectedException e)
            {
                errors["image"] = [e.Message];
                imageStatus = e.StatusCode;
            }
        }
        if (errors.Count > 0)
        {
            // A file that is too large or of a format we do not take says so in the status (413, 415); other
            // problems are 400s. Every field's problem is listed either way.
            if (imageStatus != StatusCodes.Status400BadRequest && errors.ContainsKey("image"))
                return TypedResults.Problem(new HttpValidationProblemDetails(errors)
                {
                    Status = imageStatus,
                    Title = imageStatus == StatusCodes.Status413PayloadTooLarge ? "The image is too large." : "The image format is not supported.",
                });
            return TypedResults.ValidationProblem(errors, title: "The request is invalid.");
        }

        string sha = Convert.ToHexStringLower(SHA256.HashData(image!));
        var input = new AgingInput(targetAges, gender!, seed, format, strip, new UploadedFile(header!.Format, header.Width, header.Height, image!.Length, sha));
        var job = common.NewJob(JobKinds.Aging, http, model!.Name, model, input);
        job.Id = Guid.CreateVersion7();
        // Stored before the row exists, so a worker never sees a job without its face. The submitter removes it again
        // when no new job was written (an idempotent replay, a full queue, a failed insert).
        job.InputKey = JobBlobs.Key(job.Id, $"input.{header.Format}");
        await blobs.PutAsync(job.InputKey, image, ImageFormats.ContentTypes[header.Format], ct);
        var fingerprint = JsonSerializer.Serialize(new
        {
            model = modelName, targetAges = rawAges, gender = rawGender, seed = Field(form, "seed"), format = Field(form, "format"),
            strip = Field(form, "strip"), webhook = Field(form, "webhook"), webhookEvents = Field(form, "webhookEvents"), image = sha,
        }, JsonSerializerOptions.Web);
        return await JobResponses.SubmitAsync(job, common.IdempotencyKey, fingerprint, http, submitter, reader, views, options.Value, ct);
    }

    /// <summary>A text field's value, trimmed; null when absent.</summary>
    private static string? Field(IFormCollection form, string name) =>
        form.TryGetValue(name, out var values) && values.Count > 0 ? values[0]?.Trim() : null;

    private static bool TryParseBool(string value, out bool result)
    {
        switch (value.ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on": result = true; return true;
            case "false" or "0" or "no" or "off": result = false; return true;
            default: result = false; return false;
        }
    }
}
