using System.Text.Json;
using GanService.Core.Data;
using GanService.Core.Jobs;
using GanService.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Api.Jobs;

/// <summary>Turns job rows into <see cref="JobDto"/>s: signed links, queue position.</summary>
public sealed class JobViews(GanDbContext db, BlobLinks links, IOptions<ApiOptions> options, IOptions<RetentionOptions> retention, IHttpContextAccessor http)
{
    public async Task<JobDto> ToDtoAsync(Job job, CancellationToken ct)
    {
        int? position = null;
        if (job.Status == JobStatus.Queued)
            position = await db.Jobs.CountAsync(j => j.Status == JobStatus.Queued && j.Kind == job.Kind && j.CreatedAt < job.CreatedAt, ct);
        return ToDto(job, position);
    }

    public JobDto ToDto(Job job, int? queuePosition)
    {
        var baseUrl = BaseUrl();
        // Expired outputs have no files left to link to; the job says when they went (ExpiredAt).
        var outputs = JobBlobs.Links(job, links, baseUrl)
            .Select(l => new OutputDto(l.Url, l.Output.ContentType, l.Output.Width, l.Output.Height, l.Output.Seed, l.Output.Label, l.Output.AgeGroup, l.Output.Frames))
            .ToList();
        return new JobDto(
            job.Id, job.Kind, job.Status, job.Model, job.ModelVersion,
            JsonDocument.Parse(job.Input).RootElement.Clone(),
            job.Progress, queuePosition, job.CreatedAt, job.StartedAt, job.CompletedAt, outputs,
            job.Error is null ? null : JsonDocument.Parse(job.Error).RootElement.Clone(),
            new JobMetricsDto(job.QueueMs, job.RunMs, job.BatchImages), job.Device, job.CancelAfter,
            job.Detail is null ? null : JsonDocument.Parse(job.Detail).RootElement.Clone(),
            job.WebhookUrl, job.WebhookEvents,
            job.ExpiredAt is null && job.Outputs.Count > 0 ? job.CompletedAt + retention.Value.OutputLifetime : null, job.ExpiredAt,
            job.InputKey is null || job.ExpiredAt is not null ? null : links.Link(job.InputKey, baseUrl));
    }

    private string BaseUrl()
    {
        if (!string.IsNullOrWhiteSpace(options.Value.PublicBaseUrl)) return options.Value.PublicBaseUrl.TrimEnd('/');
        var request = http.HttpContext?.Request;
        return request is null ? "" : $"{request.Scheme}://{request.Host}{request.PathBase}";
    }
}
