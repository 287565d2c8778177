using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GanService.Api.Infrastructure;

public static class RequestLimits
{
    /// <summary>
    /// Caps the body at Api:MaxBodyBytes as it is read (with or without Content-Length); past it Kestrel fails the
    /// read and <see cref="ProblemExceptionHandler"/> answers 413 problem+json before anything is queued.
    /// </summary>
    public static RouteHandlerBuilder WithRequestLimit(this RouteHandlerBuilder builder, IEndpointRouteBuilder app)
    {
        var max = app.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>().Value.MaxBodyBytes;
        return builder.WithMetadata(new RequestSizeLimitAttribute(max));
    }
}
