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

    private static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> Get(
        string key, long? exp, string? sig, UrlSigner signer, IBlobStore blobs, GanDbContext db, HttpContext http, CancellationToken ct)
    {
        var verdict = exp is null ? UrlSigner.Verdict.BadSignature : signer.Verify(key, exp.Value, sig);
        // A genuine link, however old, to outputs the retention sweep removed says so (410), not "fetch a fresh link".
        if (verdict == UrlSigner.Verdict.Expired && await ExpiredAsync(key, db, ct) is { } gone) return gone;
        if (verdict != UrlSigner.Verdict.Valid)
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden,
                title: verdict == UrlSigner.Verdict.Expired ? "Link expired" : "Invalid link signature",
                detail: verdict == UrlSigner.Verdict.Expired ? "Fetch the job again for fresh links." : "The link was altered or was not issued by this service.");
        string? path;
        try { path = blobs.LocalPath(key); }
        catch (ArgumentException) { path = null; }
        if (path is null)
            return await ExpiredAsync(key, db, ct)
                ?? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "File not found", detail: "The file no longer exists.");
        // Blobs are written once (atomically, under a key per job output), so size and write time identify the
        // content, as nginx's ETag does, without reading the file on every request.
        var info = new FileInfo(path);
        var etag = new EntityTagHeaderValue($"\"{info.Length:x}-{info.LastWriteTimeUtc.Ticks:x}\"");
        long maxAge = Math.Max(0, exp!.Value - signer.Now.ToUnixTimeSeconds());
        http.Response.Headers.CacheControl = $"private, max-age={maxAge}, immutable";
        var type = ContentTypes.GetValueOrDefault(Path.GetExtension(path).ToLowerInvariant(), "application/octet-stream");
        return TypedResults.PhysicalFile(path, type, entityTag: etag, lastModified: info.LastWriteTimeUtc);
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
