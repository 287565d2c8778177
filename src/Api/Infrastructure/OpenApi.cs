using GanService.Api.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace GanService.Api.Infrastructure;

public static class OpenApi
{
    public const string BearerScheme = "bearer";

    public static IServiceCollection AddGanOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "GanService",
                Version = "v1",
                Description = "Generative adversarial networks behind an HTTP API. Click **Authorize** and paste the API key that ./run.sh printed.",
            });
            o.AddSecurityDefinition(BearerScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "API key",
                Description = "API key (gsk_…), sent as `Authorization: Bearer <key>`.",
            });
            o.OperationFilter<BearerOperationFilter>();
            o.SchemaFilter<ExampleSchemaFilter>();
            var xml = Path.Combine(AppContext.BaseDirectory, "GanService.Api.xml");
            if (File.Exists(xml)) o.IncludeXmlComments(xml);
        });
        return services;
    }

    /// <summary>Request examples Swagger UI pre-fills "Try it out" with: they run as they are.</summary>
    private sealed class ExampleSchemaFilter : ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (context.Type == typeof(Endpoints.GenerationRequest) && schema is OpenApiSchema concrete)
                concrete.Examples = [System.Text.Json.Nodes.JsonNode.Parse(
                    """{"model":"dcgan-fashion","count":4,"seed":42,"label":"sneaker","truncation":1.0,"format":"png"}""")!];
            // No includeStageOne, so that it runs whatever stages the served model has.
            else if (context.Type == typeof(Endpoints.TextToImageRequest) && schema is OpenApiSchema textToImage)
                textToImage.Examples = [System.Text.Json.Nodes.JsonNode.Parse(
                    """{"model":"stackgan-emoji","prompt":"red apple","count":4,"seed":42,"format":"png"}""")!];
        }
    }

    /// <summary>Adds the bearer requirement and the 401/403 answers to operations that need a key.</summary>
    private sealed class BearerOperationFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
            if (!metadata.OfType<IAuthorizeData>().Any() || metadata.OfType<IAllowAnonymous>().Any()) return;
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
            operation.Responses ??= new OpenApiResponses();
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing, unknown or revoked API key (problem+json)." });
            operation.Responses.TryAdd("403", new OpenApiResponse { Description = "The key lacks the needed scope (problem+json)." });
        }
    }
}
