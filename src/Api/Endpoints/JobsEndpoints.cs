using System.ComponentModel;
using System.Text;
using System.Text.Json;
using GanService.Api.Auth;
using GanService.Api.Jobs;
using GanService.Core.Data;
using GanService.Core.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Api.Endpoints;

public static class JobsEndpoints
{
    public const int MaxPage = 100;

    public static IEndpointRouteBuilder MapJobsEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/jobs").WithTags("Jobs").RequireAuthorization(Policies.Jobs);
        group.MapGet("/{id:guid}", GetAsync)
            .WithName("GetJob").WithSummary("Get a job")
            .WithDescription("Status, progress, queue position and, once succeeded, signed links to the outputs. Another key's job answers 404.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("", ListAsync)
            .WithName("ListJobs").WithSummary("List this key's jobs, newest first")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/{id:guid}/events", EventsAsync)
            .WithName("GetJobEvents").WithSummary("Follow a job as server-sent events")
            .WithDescription("A text/event-stream of Job snapshots (event: job, data: the Job JSON): one at once, then one " +
                             "each time the status, progress, queue position or detail changes, and the last when the job " +
                             "is terminal; then the stream ends. A comment line every 15 s keeps idle connections open. " +
                             "Another key's job answers 404 before the stream starts.")
            .Produces<JobDto>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id:guid}/cancel", CancelAsync)
            .WithName("CancelJob").WithSummary("Cancel a queued or running job")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static async Task<Results<Ok<JobDto>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, JobReader reader, JobViews views, CancellationToken ct)
    {
        var job = await reader.FindAsync(id, http.User.KeyId(), ct);
        return job is null ? NotFound(id) : TypedResults.Ok(await views.ToDtoAsync(job, ct));
    }

    /// <param name="status">queued | running | succeeded | failed | canceled</param>
    /// <param name="kind">generation | aging | text-to-image | video | training</param>
    /// <param name="limit">1..100, default 20</param>
    /// <param name="cursor">nextCursor of the previous page</param>
    private static async Task<Results<Ok<JobPage>, ValidationProblem>> ListAsync(
        HttpContext http, GanDbContext db, JobViews views,
        [Description("queued | running | succeeded | failed | canceled")] string? status = null,
        [Description("generation | aging | text-to-image | video | training")] string? kind = null,
        [Description("Page size, 1..100")] int? limit = null,
        [Description("nextCursor of the previous page")] string? cursor = null,
        CancellationToken ct = default)
    {
        var errors = new Dictionary<string, string[]>();
        if (status is not null && !JobStatus.All.Contains(status)) errors["status"] = [$"status must be one of {string.Join(", ", JobStatus.All)}."];
        if (kind is not null && !JobKinds.All.Contains(kind)) errors["kind"] = [$"kind must be one of {string.Join(", ", JobKinds.All)}."];
        int size = limit ?? 20;
        if (size is < 1 or > MaxPage) errors["limit"] = [$"limit must be between 1 and {MaxPage}."];
        (DateTimeOffset At, Guid Id)? after = null;
        if (cursor is not null)
        {
            after = DecodeCursor(cursor);
            if (after is null) errors["cursor"] = ["cursor is not one this API issued."];
        }
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var keyId = http.User.KeyId();
        var query = after is { } a
            ? db.Jobs.FromSql($"SELECT * FROM jobs WHERE api_key_id = {keyId} AND (created_at, id) < ({a.At}, {a.Id})")
            : db.Jobs.Where(j => j.ApiKeyId == keyId);
        if (status is not null) query = query.Where(j => j.Status == status);
        if (kind is not null) query = query.Where(j => j.Kind == kind);
        var rows = await query.AsNoTracking().Include(j => j.Outputs)
            .OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id)
            .Take(size + 1).ToListAsync(ct);
        string? next = rows.Count > size ? EncodeCursor(rows[size - 1]) : null;
        return TypedResults.Ok(new JobPage(rows.Take(size).Select(j => views.ToDto(j, null)).ToList(), next));
    }

    /// <summary>Snapshots until terminal: woken by the workers' NOTIFY, re-read at least every 2 s (queue positions move without one).</summary>
    private static async Task<IResult> EventsAsync(Guid id, HttpContext http, JobReader reader, JobWaiter waiter, JobViews views,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct)
    {
        var keyId = http.User.KeyId();
        var job = await reader.FindAsync(id, keyId, ct);
        if (job is null) return NotFound(id);

        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers["X-Accel-Buffering"] = "no";   // proxies: pass each event on at once
        await response.Body.FlushAsync(ct);
        (string, double, int?, string?)? last = null;
        int sequence = 0;
        var quiet = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (true)
            {
                var dto = await views.ToDtoAsync(job, ct);
                // What makes a snapshot new (output links are signed afresh on each read and do not).
                var state = (job.Status, job.Progress, dto.QueuePosition, job.Detail);
                bool terminal = JobStatus.IsTerminal(job.Status);
                if (state != last || terminal)
                {
                    var data = JsonSerializer.Serialize(dto, json.Value.SerializerOptions);
                    await response.WriteAsync($"id: {++sequence}\nevent: job\ndata: {data}\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    last = state;
                    quiet.Restart();
                }
                if (terminal) break;
                if (quiet.Elapsed > TimeSpan.FromSeconds(15))
                {
                    await response.WriteAsync(": keep-alive\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    quiet.Restart();
                }
                // Listen first, then read: a change between the two is seen by the read, a later one wakes the wait.
                var seen = (job.Status, job.Progress, job.Detail);
                var signal = waiter.WaitForEventAsync(id, TimeSpan.FromSeconds(2), ct);
                job = await reader.FindAsync(id, keyId, ct) ?? job;
                if ((job.Status, job.Progress, job.Detail) == seen)
                {
                    await signal;
                    job = await reader.FindAsync(id, keyId, ct) ?? job;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away.
        }
        return Results.Empty;
    }

    private static async Task<Results<Ok<JobDto>, ProblemHttpResult>> CancelAsync(Guid id, HttpContext http, GanDbContext db, JobReader reader, JobViews views, CancellationToken ct)
    {
        var keyId = http.User.KeyId();
        int changed = await db.Jobs
            .Where(j => j.Id == id && j.ApiKeyId == keyId && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running))
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Canceled).SetProperty(j => j.CompletedAt, DateTimeOffset.UtcNow), ct);
        var job = await reader.FindAsync(id, keyId, ct);
        if (job is null) return NotFound(id);
        if (changed == 0)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Job already finished",
                detail: $"Job {id} is {job.Status}; only queued or running jobs can be canceled.");
        await JobEvents.NotifyAsync(db, id, ct);
        return TypedResults.Ok(await views.ToDtoAsync(job, ct));
    }

    internal static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Job not found", detail: $"No job {id} for this API key.");

    private static string EncodeCursor(Job job) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{job.CreatedAt.UtcTicks}:{job.Id}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (DateTimeOffset, Guid)? DecodeCursor(string cursor)
    {
        try
        {
            var b64 = cursor.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(b64)).Split(':');
            return parts.Length == 2 && long.TryParse(parts[0], out var ticks) && Guid.TryParse(parts[1], out var id)
                   && ticks > 0 && ticks < DateTimeOffset.MaxValue.UtcTicks
                ? (new DateTimeOffset(ticks, TimeSpan.Zero), id)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
