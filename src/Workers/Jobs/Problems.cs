using System.Text.Json;

namespace GanService.Workers.Jobs;

/// <summary>RFC 9457 problem objects stored on failed jobs: what went wrong, never a stack trace.</summary>
public static class Problems
{
    public static string Json(string title, string detail, int status = 500, string type = "about:blank") =>
        JsonSerializer.Serialize(new { type, title, status, detail });
}

/// <summary>The job's input cannot be served (e.g. its model version is gone): fail at once, do not retry.</summary>
public sealed class JobInputException(string message) : Exception(message);
