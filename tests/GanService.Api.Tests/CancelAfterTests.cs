using System.Net;

namespace GanService.Api.Tests;

[Collection(ServiceCollection.Name)]
public sealed class CancelAfterTests(ServiceHost host)
{
    private async Task<(HttpResponseMessage Response, System.Text.Json.JsonElement Body)> PostAsync(string cancelAfter, bool wait = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/generations") { Content = Http.Json("""{"count":1,"seed":11}""") };
        request.Headers.TryAddWithoutValidation("Cancel-After", cancelAfter);
        if (wait) request.Headers.Add("Prefer", "wait=30");
        var response = await host.Client.SendAsync(request);
        return (response, await Http.ReadAsync(response));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("86401")]
    [InlineData("1.5")]
    public async Task A_malformed_cancel_after_answers_400_naming_the_header_and_queues_nothing(string value)
    {
        long before = await host.JobCountAsync();
        var (response, body) = await PostAsync(value);
        Http.AssertProblem(response, body, HttpStatusCode.BadRequest, "Cancel-After");
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Fact]
    public async Task A_job_started_within_its_deadline_runs_normally_and_shows_the_deadline()
    {
        var (response, body) = await PostAsync("60", wait: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("succeeded", body.GetProperty("status").GetString());
        var deadline = body.GetProperty("cancelAfter").GetDateTimeOffset();
        Assert.InRange(deadline, DateTimeOffset.UtcNow.AddSeconds(30), DateTimeOffset.UtcNow.AddSeconds(61));
    }
}
