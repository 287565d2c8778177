using Microsoft.AspNetCore.Http.HttpResults;

namespace GanService.Api.Infrastructure;

/// <summary>Reading a multipart/form-data body where a bad one is the client's problem, answered as such.</summary>
public static class MultipartForms
{
    /// <summary>
    /// The form, or the answer to send instead: 415 when the body is not multipart/form-data (<paramref name="expected"/>
    /// says what is), 400 naming <c>body</c> when it is malformed (no boundary, a part without Content-Disposition, a
    /// body that ends mid-part). A body over the endpoint's size limit still throws, and is answered 413 centrally.
    /// </summary>
    public static async Task<(IFormCollection? Form, ProblemHttpResult? Refusal)> ReadAsync(HttpRequest request, string expected, string title, CancellationToken ct)
    {
        if (!request.HasFormContentType)
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type", detail: expected));
        try
        {
            return (await request.ReadFormAsync(ct), null);
        }
        catch (Exception e) when (e is InvalidDataException || (e is IOException and not BadHttpRequestException && !ct.IsCancellationRequested))
        {
            var errors = new Dictionary<string, string[]> { ["body"] = [$"The multipart body is malformed: {e.Message.Trim()}"] };
            return (null, TypedResults.Problem(new HttpValidationProblemDetails(errors) { Status = StatusCodes.Status400BadRequest, Title = title }));
        }
    }
}
