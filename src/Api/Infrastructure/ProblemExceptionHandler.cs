using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace GanService.Api.Infrastructure;

/// <summary>
/// Maps every exception to an RFC 9457 problem: request binding failures (malformed JSON, wrong types, unknown
/// fields, wrong content type, oversized body) become 4xx naming the field; a database outage becomes 503;
/// anything else a 500 without internals.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var problem = exception switch
        {
            BadHttpRequestException bad => FromBadRequest(bad),
            _ when IsDatabase(exception) => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service temporarily unavailable",
                Detail = "The database cannot be reached; retry shortly.",
            },
            _ => null,
        };
        if (problem is null)
        {
            log.LogError(exception, "Unhandled exception on {Method} {Path}", http.Request.Method, http.Request.Path);
            problem = new ProblemDetails { Status = StatusCodes.Status500InternalServerError, Title = "Internal error", Detail = "The error was logged." };
        }
        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            http.Response.Headers.RetryAfter = "5";
            log.LogWarning("Database unreachable on {Method} {Path}: {Error}", http.Request.Method, http.Request.Path, exception.GetBaseException().Message);
        }
        http.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>
    /// The database cannot be reached (connection refused or broken, a timeout, the server shutting down or refusing
    /// connections), anywhere in the chain: Npgsql's EF Core execution strategy wraps the exception twice
    /// (InvalidOperationException "likely due to a transient failure" → DbUpdateException → NpgsqlException). Errors
    /// the server reports about a statement (a constraint, a value too long) are not outages and stay 500s.
    /// </summary>
    private static bool IsDatabase(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is NpgsqlException n && (n is not PostgresException || n.IsTransient)) return true;
        return false;
    }

    private static ProblemDetails FromBadRequest(BadHttpRequestException bad)
    {
        var json = bad.InnerException as JsonException ?? bad.InnerException?.InnerException as JsonException;
        if (json is not null)
        {
            string field = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? "body" : json.Path.TrimStart('$', '.');
            var problem = new ValidationProblemDetails(new Dictionary<string, string[]>
            {
                [field] = [Describe(json)],
            })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request body is not valid JSON for this operation.",
            };
            return problem;
        }
        if (bad.StatusCode == StatusCodes.Status400BadRequest)
        {
            // Query/route binding ("Failed to bind parameter \"Nullable<int> limit\" from \"abc\".") and a missing body.
            var binding = BindFailure().Match(bad.Message);
            if (binding.Success)
                return Invalid(binding.Groups["name"].Value, $"'{binding.Groups["value"].Value}' is not a valid value.");
            if (bad.Message.Contains("no body was provided", StringComparison.Ordinal)
                || bad.Message.Contains("was not provided from body", StringComparison.Ordinal))
                return Invalid("body", "A JSON object body is required.");
        }
        return bad.StatusCode switch
        {
            StatusCodes.Status413PayloadTooLarge => new ProblemDetails { Status = 413, Title = "Request body too large", Detail = bad.Message },
            StatusCodes.Status415UnsupportedMediaType => new ProblemDetails { Status = 415, Title = "Unsupported media type", Detail = "Send the body as application/json." },
            _ => new ProblemDetails { Status = bad.StatusCode, Title = "Bad request", Detail = bad.Message },
        };
    }

    private static ValidationProblemDetails Invalid(string field, string message) =>
        new(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is invalid.",
        };

    [GeneratedRegex(@"Failed to bind parameter ""(?:[^""]*\s)?(?<name>[\w-]+)"" from ""(?<value>.*)""")]
    private static partial Regex BindFailure();

    private static string Describe(JsonException json)
    {
        // System.Text.Json's messages name .NET types; keep the useful part and say it plainly.
        var message = json.Message;
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        return message
            .Replace("System.Nullable`1[System.Int32]", "an integer")
            .Replace("System.Nullable`1[System.Int64]", "an integer")
            .Replace("System.Nullable`1[System.Double]", "a number")
            .Replace("System.Nullable`1[System.Boolean]", "true or false")
            .Replace("System.Int32", "an integer").Replace("System.Int64", "an integer")
            .Replace("System.Double", "a number").Replace("System.String", "a string")
            .Replace("System.Boolean", "true or false");
    }
}
