namespace GanService.Api.Jobs;

/// <summary>RFC 7240 <c>Prefer: wait=N</c> (bare <c>wait</c> means the maximum).</summary>
public static class Prefer
{
    public static TimeSpan? Wait(HttpRequest request, int maxSeconds)
    {
        foreach (var value in request.Headers["Prefer"])
        {
            foreach (var part in (value ?? "").Split(',', ';'))
            {
                var token = part.Trim();
                if (token.Equals("wait", StringComparison.OrdinalIgnoreCase)) return TimeSpan.FromSeconds(maxSeconds);
                if (token.StartsWith("wait=", StringComparison.OrdinalIgnoreCase)
                    && double.TryParse(token[5..].Trim('"'), System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
                    return TimeSpan.FromSeconds(Math.Min(seconds, maxSeconds));
            }
        }
        return null;
    }
}
