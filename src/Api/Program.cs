using GanService.Api;
using GanService.Api.Endpoints;
using GanService.Api.Infrastructure;
using Serilog;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddApiLogging().AddApiServices();

var app = builder.Build();
app.RaiseThreadPoolMinimum();
// Outermost, so that the logged status is the one sent: inside the exception handler it saw the exception and logged
// 500 for what the handler answered with 503 (a database outage) or 4xx (a malformed body).
app.UseSerilogRequestLogging();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseSwagger();
app.UseSwaggerUI(o =>
{
    o.SwaggerEndpoint("/swagger/v1/swagger.json", "GanService v1");
    o.EnablePersistAuthorization();
    o.EnableTryItOutByDefault();
});
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();

app.MapHealthEndpoints();
app.MapMetrics();
app.MapGenerationsEndpoints();
app.MapAgingsEndpoints();
app.MapTextToImageEndpoints();
app.MapVideosEndpoints();
app.MapJobsEndpoints();
app.MapModelsEndpoints();
app.MapFilesEndpoints();
app.MapDatasetsEndpoints();
app.MapTrainingsEndpoints();
app.MapWebhooksEndpoints();
app.MapGet("/", () => Results.Redirect("/swagger")).ExcludeFromDescription();

app.Run();
