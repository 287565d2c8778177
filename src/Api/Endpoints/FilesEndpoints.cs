using GanService.Core.Data;
using GanService.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace GanService.Api.Endpoints;

public static class FilesEndpoints
{
    private static readonly Dictionary<string, string> ContentTypes = new()
    {
        [".png"] = "image/png", [".webp"] = "image/webp", [".jpeg"] = "image/jpeg", [".jpg"] = "image/jpeg",
        [".gif"] = "image/gif", [".mp4"] = "video/mp4",
    };

    public static IEndpointRouteBuilder MapFilesEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/files/{**key}", Get)
            .WithTags("Files").WithName("GetFile").WithSummary("Download a job output through its signed link")
            .WithDescription("The link itself is the credential (HMAC over path and expiry): no Authorization header. A tampered or expired link answers 403; a file deleted by retention (Retention:OutputSeconds after its job finished) answers 410.")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status410Gone)
            .AllowAnonymous();
        return app;
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Get(
        string key, long? exp, string? sig, UrlSigner signer, IBlobStore blobs, GanDbContext db, HttpContext http, CancellationToken ct)
    {
        var verdict = exp is null ? UrlSigner.Verdict.BadSignature : signer.Verify(key, exp.Value, sig);
        // A genuine link, however old, to outputs the retention sweep removed says so (410), not "fetch a fresh link".
        if (verdict == UrlSigner.Verdict.Expired && await ExpiredAsync(key, db, ct) is { } gone) return gone;
        if (verdict != UrlSigner.Verdict.Valid)
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden,
                title: verdict == UrlSigner.Verdict.Expired ? "Link expired" : "Invalid link signature",
                detail: verdict == UrlSigner.Verdict.Expired ? "Fetch the job again for fresh links." : "The link was altered or was not issued by this service.");
        Blob? blob;
        try { blob = await blobs.OpenAsync(key, ct); }
        catch (ArgumentException) { blob = null; }
        if (blob is null)
            return await ExpiredAsync(key, db, ct)
                ?? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "File not found", detail: "The file no longer exists.");
        long maxAge = Math.Max(0, exp!.Value - signer.Now.ToUnixTimeSeconds());
        http.Response.Headers.CacheControl = $"private, max-age={maxAge}, immutable";
        if (!blob.Content.CanSeek)
        {
            // The result sets it for a seekable stream (or a range's); for a network stream only a 200 carries the
            // whole body (a 304 or 412 has none, and a length there would make Kestrel fail the response).
            long length = blob.Length;
            http.Response.OnStarting(() =>
            {
                if (http.Response.StatusCode == StatusCodes.Status200OK) http.Response.ContentLength = length;
                return Task.CompletedTask;
            });
        }
        var type = ContentTypes.GetValueOrDefault(Path.GetExtension(key).ToLowerInvariant(), "application/octet-stream");
        // The result disposes the stream once sent. Range requests need a seekable one (the file store's).
        return TypedResults.Stream(blob.Content, type, lastModified: blob.LastModified, entityTag: new EntityTagHeaderValue(blob.ETag),
            enableRangeProcessing: blob.Content.CanSeek);
    }

    /// <summary>410 when the key's job had its outputs removed by retention, else null.</summary>
    private static async Task<ProblemHttpResult?> ExpiredAsync(string key, GanDbContext db, CancellationToken ct)
    {
        if (JobBlobs.JobOf(key) is not { } jobId) return null;
        var expiredAt = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.ExpiredAt).FirstOrDefaultAsync(ct);
        return expiredAt is null ? null : TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "Output expired",
            detail: $"This job's outputs were deleted at {expiredAt:u} by the retention policy; run the job again with the same seed for the same pixels.");
    }
}
