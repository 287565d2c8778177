using GanService.Core.Data;
using GanService.Core.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GanService.Api.Jobs;

/// <summary>The answer every job-creating POST shares: 202 + Location, or 200 when Prefer: wait saw it finish.</summary>
public static class JobResponses
{
    public static async Task<Results<Ok<JobDto>, Accepted<JobDto>, ValidationProblem, ProblemHttpResult>> SubmitAsync(
        Job job, string? idempotencyKey, string fingerprint, HttpContext http, JobSubmitter submitter, JobReader reader,
        JobViews views, ApiOptions options, CancellationToken ct)
    {
        var outcome = await submitter.SubmitAsync(job, idempotencyKey, fingerprint, ct);
        if (outcome.Conflict)
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused",
                detail: $"Idempotency-Key '{idempotencyKey}' was used with a different request (job {outcome.Job.Id}).");
        if (outcome.QueuedAlready is { } queued)
        {
            http.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many queued jobs",
                detail: $"This API key already has {queued} queued jobs (the limit is {options.MaxQueuedJobsPerKey}); retry when some have started.");
        }
        if (outcome.Replayed) http.Response.Headers["Idempotent-Replayed"] = "true";
        var current = outcome.Job;
        var wait = Prefer.Wait(http.Request, options.MaxWaitSeconds);
        if (wait is { } w)
        {
            current = await reader.WaitAsync(current, w, ct);
            http.Response.Headers["Preference-Applied"] = $"wait={(int)w.TotalSeconds}";
        }
        var dto = await views.ToDtoAsync(current, ct);
        var location = $"/v1/jobs/{current.Id}";
        return JobStatus.IsTerminal(current.Status) && wait is not null
            ? TypedResults.Ok(dto)
            : TypedResults.Accepted(location, dto);
    }
}
