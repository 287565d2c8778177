using System.Net;
using System.Net.Http.Headers;

namespace GanService.Api.Tests;

[Collection(ServiceCollection.Name)]
public sealed class AuthTests(ServiceHost host)
{
    private static async Task AssertUnauthorizedAsync(HttpClient client, string path = "/v1/models")
    {
        var (response, body) = await client.GetJsonAsync(path);
        Http.AssertProblem(response, body, HttpStatusCode.Unauthorized);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Fact]
    public async Task Request_without_authorization_header_answers_401_problem_with_bearer_challenge()
    {
        using var anonymous = host.NewClient(null);
        await AssertUnauthorizedAsync(anonymous);
        await AssertUnauthorizedAsync(anonymous, $"/v1/jobs/{Guid.NewGuid()}");
    }

    [Fact]
    public async Task Basic_authorization_answers_401_problem_with_bearer_challenge()
    {
        using var basic = host.NewClient(null);
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", "xyz");
        await AssertUnauthorizedAsync(basic);
    }

    [Fact]
    public async Task Unknown_key_answers_401_problem_with_bearer_challenge()
    {
        using var unknown = host.NewClient("gsk_" + Guid.NewGuid().ToString("N"));
        await AssertUnauthorizedAsync(unknown);
    }

    [Fact]
    public async Task Unauthenticated_post_answers_401_and_queues_nothing()
    {
        using var anonymous = host.NewClient(null);
        long before = await host.JobCountAsync();
        var (response, body) = await anonymous.PostAsync("/v1/generations", """{"count":1}""");
        Http.AssertProblem(response, body, HttpStatusCode.Unauthorized);
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Fact]
    public async Task Key_revoked_with_cli_stops_working_within_seconds()
    {
        var created = await host.CreateKeyWithCliAsync("revoke-me");
        using var client = host.NewClient(created.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);

        var (code, output) = await host.RunWorkersCliAsync($"keys revoke {created.Id}");
        Assert.True(code == 0, $"keys revoke exited {code}:\n{output}");

        await ServiceHost.WaitUntilAsync(async () => (await client.GetAsync("/v1/models")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(5), "the revoked key to be refused");
        await AssertUnauthorizedAsync(client);
        // Revoking again finds no active key.
        Assert.Equal(1, (await host.RunWorkersCliAsync($"keys revoke {created.Id}")).ExitCode);
    }

    [Fact]
    public async Task Key_without_scopes_answers_403_problem_and_queues_nothing()
    {
        var scopeless = await host.InsertKeyAsync("no-scopes");
        using var client = host.NewClient(scopeless.Key);

        var (models, modelsBody) = await client.GetJsonAsync("/v1/models");
        Http.AssertProblem(models, modelsBody, HttpStatusCode.Forbidden);

        long before = await host.JobCountAsync();
        var (post, postBody) = await client.PostAsync("/v1/generations", """{"count":1}""");
        Http.AssertProblem(post, postBody, HttpStatusCode.Forbidden);
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Fact]
    public async Task Another_keys_job_answers_404_on_get_and_cancel_and_is_left_alone()
    {
        var (created, job) = await host.Client.PostAsync("/v1/generations", """{"count":1,"seed":11}""");
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = job.GetProperty("id").GetString();

        var other = await host.InsertKeyAsync("other", "jobs");
        using var client = host.NewClient(other.Key);
        var (get, getBody) = await client.GetJsonAsync($"/v1/jobs/{id}");
        Http.AssertProblem(get, getBody, HttpStatusCode.NotFound);
        var (cancel, cancelBody) = await client.PostEmptyAsync($"/v1/jobs/{id}/cancel");
        Http.AssertProblem(cancel, cancelBody, HttpStatusCode.NotFound);
        var (_, list) = await client.GetJsonAsync("/v1/jobs");
        Assert.Empty(list.GetProperty("items").EnumerateArray());

        // The owner's job was not canceled by the stranger.
        await ServiceHost.WaitUntilAsync(async () =>
        {
            var (_, current) = await host.Client.GetJsonAsync($"/v1/jobs/{id}");
            Assert.NotEqual("canceled", current.GetProperty("status").GetString());
            return current.GetProperty("status").GetString() == "succeeded";
        }, TimeSpan.FromSeconds(60), "the owner's job to succeed");
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_endpoints_need_no_key(string path)
    {
        using var anonymous = host.NewClient(null);
        var response = await anonymous.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
