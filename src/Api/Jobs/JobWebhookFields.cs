using GanService.Core.Data;
using GanService.Core.Webhooks;

namespace GanService.Api.Jobs;

/// <summary>The <c>webhook</c> and <c>webhookEvents</c> fields every job-creating POST takes.</summary>
public static class JobWebhookFields
{
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(2);

    public readonly record struct Choice(string? Url, string[]? Events)
    {
        public void ApplyTo(Job job) => (job.WebhookUrl, job.WebhookEvents) = (Url, Events);
    }

    /// <summary>Checks the fields (the target's form, host and addresses; the event names), adding what is wrong to
    /// <paramref name="errors"/>. Events default to completed.</summary>
    public static async Task<Choice> ValidateAsync(string? webhook, string[]? events, WebhookTargets targets,
        Dictionary<string, string[]> errors, CancellationToken ct)
    {
        if (webhook is null)
        {
            if (events is not null) errors["webhookEvents"] = ["webhookEvents needs a webhook to send them to."];
            return default;
        }
        if (targets.CheckUrl(webhook, out var uri) is { } bad) errors["webhook"] = [bad];
        else if (await targets.CheckResolvedAsync(uri!, ResolveTimeout, ct) is { } refused) errors["webhook"] = [refused];

        string[] chosen = [WebhookEvents.Completed];
        if (events is not null)
        {
            var unknown = events.Where(e => e is null || !WebhookEvents.All.Contains(e)).ToArray();
            if (events.Length == 0 || unknown.Length > 0)
            {
                errors["webhookEvents"] = [$"webhookEvents must name one or more of {string.Join(", ", WebhookEvents.All)}" +
                    (unknown.Length > 0 ? $", got '{string.Join("', '", unknown)}'." : ".")];
                return default;
            }
            chosen = [.. events.Distinct()];
        }
        return new Choice(uri?.AbsoluteUri, chosen);
    }
}
