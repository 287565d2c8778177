using System.Globalization;

namespace GanService.Api.Jobs;

/// <summary>Request headers every job-creating POST understands.</summary>
public static class JobHeaders
{
    public const int MaxCancelAfterSeconds = 86_400;

    /// <summary>
    /// <c>Cancel-After: S</c>: the job is useless if it has not started within S seconds (a shopper who left). Returns
    /// the deadline, or null without the header; a malformed value is added to <paramref name="errors"/>.
    /// </summary>
    public static DateTimeOffset? CancelAfter(string? header, Dictionary<string, string[]> errors)
    {
        if (header is null) return null;
        if (!int.TryParse(header.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) || seconds is < 1 or > MaxCancelAfterSeconds)
        {
            errors["Cancel-After"] = [$"Cancel-After must be a whole number of seconds, 1..{MaxCancelAfterSeconds}, got '{header}'."];
            return null;
        }
        return DateTimeOffset.UtcNow.AddSeconds(seconds);
    }
}
