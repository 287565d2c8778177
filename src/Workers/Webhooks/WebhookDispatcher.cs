using System.Diagnostics;
using System.Globalization;
using System.Text;
using GanService.Core.Auth;
using GanService.Core.Data;
using GanService.Core.Storage;
using GanService.Core.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace GanService.Workers.Webhooks;

/// <summary>
/// Sends due webhook deliveries. Each worker process claims up to Webhooks:MaxConcurrent due rows at a time
/// (FOR UPDATE SKIP LOCKED, with a lease so a process killed mid-send leaves them to another), signs each body with
/// the owning key's secret, posts it, records the attempt, and either marks the delivery done or schedules the next
/// try from Webhooks:RetrySchedule; after the last one it is failed. The job itself is never touched: a receiver
/// that is down does not change a job's outcome.
/// </summary>
public sealed class WebhookDispatcher : BackgroundService
{
    private readonly IServiceScopeFactory scopes;
    private readonly WebhookOptions options;
    private readonly IReadOnlyList<TimeSpan> retries;
    private readonly BlobLinks links;
    private readonly ILogger<WebhookDispatcher> log;
    private readonly HttpClient http;

    public WebhookDispatcher(IServiceScopeFactory scopes, IOptions<WebhookOptions> options, WebhookTargets targets, BlobLinks links, ILogger<WebhookDispatcher> log)
    {
        this.scopes = scopes;
        this.options = options.Value;
        retries = this.options.Retries();
        this.links = links;
        this.log = log;
        http = new HttpClient(new SocketsHttpHandler
        {
            // Every connection dials only addresses the policy allows, checked after resolution (no DNS rebinding).
            ConnectCallback = (context, ct) => targets.ConnectAsync(context.DnsEndPoint, ct),
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("GanService-Webhooks/1");
    }

    private TimeSpan AttemptTimeout => TimeSpan.FromSeconds(options.TimeoutSeconds);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var idle = TimeSpan.FromMilliseconds(options.PollMilliseconds);
        // Up to MaxConcurrent sends in flight; a slot freed by one receiver is refilled at the next look, so a
        // receiver that never answers holds one slot for its timeout, not the whole round.
        var inFlight = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                inFlight.RemoveAll(t => t.IsCompleted);
                int claimed = 0;
                if (inFlight.Count < options.MaxConcurrent)
                {
                    var due = await ClaimAsync(options.MaxConcurrent - inFlight.Count, stoppingToken);
                    inFlight.AddRange(due.Select(d => SendAsync(d, stoppingToken)));
                    claimed = due.Count;
                }
                if (claimed == 0)
                    await Task.WhenAny(inFlight.Append(Task.Delay(idle, stoppingToken)));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.LogWarning(e, "Webhook dispatch failed; retrying in {Delay} ms", idle.TotalMilliseconds);
                await Task.Delay(idle, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
        await Task.WhenAll(inFlight).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>Claims up to <paramref name="limit"/> due deliveries (leased to this process).</summary>
    private async Task<List<WebhookDelivery>> ClaimAsync(int limit, CancellationToken ct)
    {
        List<WebhookDelivery> due;
        using (var scope = scopes.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<GanDbContext>();
            var lease = DateTimeOffset.UtcNow + AttemptTimeout + TimeSpan.FromSeconds(30);
            due = await db.WebhookDeliveries.FromSql($"""
                WITH due AS (
                    SELECT id FROM webhook_deliveries
                    WHERE status = {DeliveryStatus.Pending} AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
                    ORDER BY next_attempt_at LIMIT {limit}
                    FOR UPDATE SKIP LOCKED),
                claimed AS (
                    UPDATE webhook_deliveries d SET locked_until = {lease}, attempts = d.attempts + 1
                    FROM due WHERE d.id = due.id
                    RETURNING d.*)
                SELECT * FROM claimed
                """).AsNoTracking().ToListAsync(ct);
        }
        return due;
    }

    private async Task SendAsync(WebhookDelivery delivery, CancellationToken ct)
    {
        try
        {
            await SendOnceAsync(delivery, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // Its lease runs out and another look sends it again.
            log.LogWarning(e, "Webhook {DeliveryId} of job {JobId}: attempt {Attempt} broke off", delivery.Id, delivery.JobId, delivery.Attempts);
        }
    }

    private async Task SendOnceAsync(WebhookDelivery delivery, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<GanDbContext>();
        var job = await db.Jobs.AsNoTracking().Include(j => j.Outputs).FirstOrDefaultAsync(j => j.Id == delivery.JobId, ct);
        if (job is null) return; // deleted: its deliveries went with it
        if (delivery.Event == WebhookEvents.Progress && job.Status != Core.Jobs.JobStatus.Running)
        {
            await FinishAsync(db, delivery, DeliveryStatus.Superseded, null, "the job had finished; its completed event carries the outcome", ct);
            return;
        }
        if (delivery.Payload is null)
        {
            delivery.Payload = WebhookPayload.Build(delivery, job, links, options.PublicBaseUrl);
            await db.WebhookDeliveries.Where(d => d.Id == delivery.Id && d.Payload == null)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.Payload, delivery.Payload), ct);
        }
        var secret = await scope.ServiceProvider.GetRequiredService<ApiKeyStore>().WebhookSecretAsync(delivery.ApiKeyId, rotate: false, ct);

        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        int? code = null;
        string? error = null;
        try
        {
            long timestamp = started.ToUnixTimeSeconds();
            string id = delivery.Id.ToString();
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
            {
                Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("webhook-id", id);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSignature.Sign(secret, id, timestamp, delivery.Payload));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(AttemptTimeout);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            code = (int)response.StatusCode;
            if (code is < 200 or >= 300) error = $"HTTP {code}";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            error = $"no answer within {options.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s";
        }
        catch (HttpRequestException e)
        {
            error = Describe(e);
        }
        long ms = clock.ElapsedMilliseconds;

        db.WebhookAttempts.Add(new WebhookAttempt
        {
            DeliveryId = delivery.Id, Attempt = delivery.Attempts, StartedAt = started, DurationMs = ms, StatusCode = code, Error = error,
        });
        await db.SaveChangesAsync(ct);
        if (error is null)
        {
            await FinishAsync(db, delivery, DeliveryStatus.Succeeded, code, null, ct);
            log.LogInformation("Webhook {DeliveryId} ({Event} of job {JobId}) delivered: HTTP {StatusCode} in {ElapsedMs} ms",
                delivery.Id, delivery.Event, delivery.JobId, code, ms);
        }
        else if (delivery.Attempts > retries.Count)
        {
            await FinishAsync(db, delivery, DeliveryStatus.Failed, code, error, ct);
            log.LogWarning("Webhook {DeliveryId} ({Event} of job {JobId}) failed after {Attempts} attempts: {Error}",
                delivery.Id, delivery.Event, delivery.JobId, delivery.Attempts, error);
        }
        else
        {
            var next = DateTimeOffset.UtcNow + retries[delivery.Attempts - 1];
            await db.WebhookDeliveries.Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.NextAttemptAt, next).SetProperty(d => d.LockedUntil, (DateTimeOffset?)null)
                .SetProperty(d => d.LastStatusCode, code).SetProperty(d => d.LastError, error), ct);
            log.LogInformation("Webhook {DeliveryId} ({Event} of job {JobId}) attempt {Attempt} failed: {Error}; next at {NextAttemptAt}",
                delivery.Id, delivery.Event, delivery.JobId, delivery.Attempts, error, next);
        }
    }

    private static Task FinishAsync(GanDbContext db, WebhookDelivery delivery, string status, int? code, string? error, CancellationToken ct) =>
        db.WebhookDeliveries.Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Status, status).SetProperty(d => d.CompletedAt, DateTimeOffset.UtcNow)
            .SetProperty(d => d.LockedUntil, (DateTimeOffset?)null)
            .SetProperty(d => d.LastStatusCode, code).SetProperty(d => d.LastError, error), ct);

    /// <summary>The messages down the exception chain ("An error occurred while sending the request: refused: …").</summary>
    private static string Describe(Exception e)
    {
        var messages = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (!messages.Contains(x.Message)) messages.Add(x.Message);
        return string.Join(": ", messages);
    }

    public override void Dispose()
    {
        http.Dispose();
        base.Dispose();
    }
}
