using GanService.Core.Data;

namespace GanService.Core.Storage;

/// <summary>
/// Where a job's output files live in the blob store (jobs/{job id}/{file}), and the links to them: one rule for the
/// workers that write them, the job views and webhook bodies that link to them, and the file endpoint that tells an
/// expired job's file (410) from a missing one.
/// </summary>
public static class JobBlobs
{
    public static string Key(Guid jobId, string file) => $"jobs/{jobId:N}/{file}";

    /// <summary>The job a blob key belongs to, or null for a key that is not a job output's.</summary>
    public static Guid? JobOf(string key) =>
        key.Split('/') is ["jobs", var id, ..] && Guid.TryParseExact(id, "N", out var jobId) ? jobId : null;

    /// <summary>Signed links to the outputs the job still has, by index; none once retention removed them.</summary>
    public static IEnumerable<(JobOutput Output, string Url)> Links(Job job, BlobLinks links, string baseUrl) =>
        job.ExpiredAt is not null ? [] : job.Outputs.OrderBy(o => o.Index).Select(o => (o, links.Link(o.BlobKey, baseUrl)));
}
