using System.Net;

namespace GanService.Api.Tests;

[Collection(ServiceCollection.Name)]
public sealed class IdempotencyTests(ServiceHost host)
{
    private readonly HttpClient client = host.Client;

    private static bool Replayed(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Contains("true");

    private Task<long> RowsWithKeyAsync(string idempotencyKey) =>
        host.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE idempotency_key = @k", ("k", idempotencyKey));

    [Fact]
    public async Task Same_key_and_body_twice_returns_the_same_job_marked_replayed()
    {
        var key = "same-" + Guid.NewGuid();
        const string body = """{"count":1,"seed":77,"label":"coat"}""";
        var (first, a) = await client.PostAsync("/v1/generations", body, ("Idempotency-Key", key));
        var (second, b) = await client.PostAsync("/v1/generations", body, ("Idempotency-Key", key));

        Assert.True(first.IsSuccessStatusCode, $"{(int)first.StatusCode}: {a}");
        Assert.True(second.IsSuccessStatusCode, $"{(int)second.StatusCode}: {b}");
        Assert.Equal(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.False(Replayed(first), "the first answer is not a replay");
        Assert.True(Replayed(second), "the second answer carries Idempotent-Replayed: true");
        Assert.Equal(1, await RowsWithKeyAsync(key));
    }

    [Fact]
    public async Task Same_key_without_seed_replays_the_job_and_its_drawn_seed()
    {
        // No seed: the server draws one; the retry must still be the same request, not a conflict.
        var key = "noseed-" + Guid.NewGuid();
        var (first, a) = await client.PostAsync("/v1/generations", """{"count":1}""", ("Idempotency-Key", key));
        var (second, b) = await client.PostAsync("/v1/generations", """{"count":1}""", ("Idempotency-Key", key));
        Assert.True(first.IsSuccessStatusCode, $"{(int)first.StatusCode}: {a}");
        Assert.True(second.IsSuccessStatusCode, $"a retry of the same body must not be refused: {(int)second.StatusCode}: {b}");
        Assert.Equal(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.Equal(a.GetProperty("input").GetProperty("seed").GetInt64(), b.GetProperty("input").GetProperty("seed").GetInt64());
        Assert.True(Replayed(second));
    }

    [Fact]
    public async Task Five_concurrent_requests_with_one_key_create_one_job()
    {
        var key = "race-" + Guid.NewGuid();
        const string body = """{"count":1,"seed":88}""";
        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => client.PostAsync("/v1/generations", body, ("Idempotency-Key", key))));

        foreach (var (response, job) in answers) Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {job}");
        Assert.Single(answers.Select(x => x.Body.GetProperty("id").GetString()).Distinct());
        Assert.Equal(1, await RowsWithKeyAsync(key));
        Assert.Equal(1, answers.Count(x => !Replayed(x.Response)));
    }

    [Fact]
    public async Task Same_key_with_a_different_body_answers_422_problem_and_creates_nothing()
    {
        var key = "conflict-" + Guid.NewGuid();
        var (first, a) = await client.PostAsync("/v1/generations", """{"count":1,"seed":1}""", ("Idempotency-Key", key));
        Assert.True(first.IsSuccessStatusCode, $"{(int)first.StatusCode}: {a}");
        long before = await host.JobCountAsync();

        var (second, b) = await client.PostAsync("/v1/generations", """{"count":2,"seed":1}""", ("Idempotency-Key", key));
        Http.AssertProblem(second, b, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(before, await host.JobCountAsync());
        Assert.Equal(1, await RowsWithKeyAsync(key));
    }

    [Fact]
    public async Task Different_api_keys_use_the_same_idempotency_key_independently()
    {
        var key = "shared-" + Guid.NewGuid();
        const string body = """{"count":1,"seed":99}""";
        var other = await host.InsertKeyAsync("idem-other", "jobs");
        using var otherClient = host.NewClient(other.Key);

        var (first, a) = await client.PostAsync("/v1/generations", body, ("Idempotency-Key", key));
        var (second, b) = await otherClient.PostAsync("/v1/generations", body, ("Idempotency-Key", key));
        Assert.True(first.IsSuccessStatusCode, $"{(int)first.StatusCode}: {a}");
        Assert.True(second.IsSuccessStatusCode, $"{(int)second.StatusCode}: {b}");
        Assert.NotEqual(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.False(Replayed(second), "another key's request is not a replay");
        Assert.Equal(2, await RowsWithKeyAsync(key));

        // Each key still sees only its own job under that key.
        var (_, own) = await otherClient.GetJsonAsync($"/v1/jobs/{b.GetProperty("id").GetString()}");
        Assert.Equal(b.GetProperty("id").GetString(), own.GetProperty("id").GetString());
        var (notMine, notMineBody) = await otherClient.GetJsonAsync($"/v1/jobs/{a.GetProperty("id").GetString()}");
        Http.AssertProblem(notMine, notMineBody, HttpStatusCode.NotFound);
    }
}
