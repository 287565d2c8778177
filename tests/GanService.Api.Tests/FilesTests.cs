using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace GanService.Api.Tests;

[Collection(ServiceCollection.Name)]
public sealed class FilesTests(ServiceHost host) : IDisposable
{
    // Two finished jobs shared by the tests of this class (one pair per host).
    private static readonly ConcurrentDictionary<string, Lazy<Task<(JsonElement A, JsonElement B)>>> Jobs = new();

    private readonly HttpClient anonymous = host.NewClient(null);

    public void Dispose() => anonymous.Dispose();

    private Task<(JsonElement A, JsonElement B)> TwoJobsAsync() =>
        Jobs.GetOrAdd(host.BaseUrl, _ => new Lazy<Task<(JsonElement, JsonElement)>>(async () =>
        {
            var a = await host.Client.GenerateAsync("""{"count":1,"seed":31,"label":"dress"}""");
            var b = await host.Client.GenerateAsync("""{"count":1,"seed":32,"label":"bag"}""");
            return (a, b);
        })).Value;

    private static string Url(JsonElement job) => job.GetProperty("outputs")[0].GetProperty("url").GetString()!;

    private async Task AssertForbiddenAsync(string pathAndQuery, string? titleContains = null)
    {
        var (response, body) = await anonymous.GetJsonAsync(pathAndQuery);
        Http.AssertProblem(response, body, HttpStatusCode.Forbidden);
        if (titleContains is not null) Assert.Contains(titleContains, body.GetProperty("title").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Issued_link_downloads_without_a_key_and_a_link_signed_the_same_way_works_too()
    {
        var (a, _) = await TwoJobsAsync();
        var response = await anonymous.GetAsync(Url(a));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);

        // The tests' own signing (used for the expiry test below) matches the service's.
        var (key, exp, _) = TestHelpers.ParseFileUrl(Url(a));
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(TestHelpers.SignedPath(key, exp + 60))).StatusCode);
    }

    [Fact]
    public async Task Tampered_signature_answers_403_problem()
    {
        var (a, _) = await TwoJobsAsync();
        var (key, exp, sig) = TestHelpers.ParseFileUrl(Url(a));
        var tampered = (sig[0] == 'A' ? 'B' : 'A') + sig[1..];
        await AssertForbiddenAsync($"/files/{key}?exp={exp}&sig={tampered}");
        await AssertForbiddenAsync($"/files/{key}?exp={exp}&sig={sig[..^1]}");
    }

    [Fact]
    public async Task Signature_of_one_file_does_not_open_another_answering_403_problem()
    {
        var (a, b) = await TwoJobsAsync();
        var (_, exp, sig) = TestHelpers.ParseFileUrl(Url(a));
        var (otherKey, _, _) = TestHelpers.ParseFileUrl(Url(b));
        await AssertForbiddenAsync($"/files/{otherKey}?exp={exp}&sig={sig}");
    }

    [Fact]
    public async Task Extending_the_expiry_of_a_link_answers_403_problem()
    {
        var (a, _) = await TwoJobsAsync();
        var (key, exp, sig) = TestHelpers.ParseFileUrl(Url(a));
        await AssertForbiddenAsync($"/files/{key}?exp={exp + 3600}&sig={sig}");
    }

    [Fact]
    public async Task Correctly_signed_but_expired_link_answers_403_problem()
    {
        var (a, _) = await TwoJobsAsync();
        var (key, _, _) = TestHelpers.ParseFileUrl(Url(a));
        long past = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 10;
        await AssertForbiddenAsync(TestHelpers.SignedPath(key, past), titleContains: "expired");
    }

    [Fact]
    public async Task Link_without_sig_or_exp_answers_403_problem()
    {
        var (a, _) = await TwoJobsAsync();
        var (key, exp, sig) = TestHelpers.ParseFileUrl(Url(a));
        await AssertForbiddenAsync($"/files/{key}?exp={exp}");
        await AssertForbiddenAsync($"/files/{key}?sig={sig}");
        await AssertForbiddenAsync($"/files/{key}");
    }

    [Fact]
    public async Task Correctly_signed_link_to_a_missing_file_answers_404_problem()
    {
        var (a, _) = await TwoJobsAsync();
        var (key, exp, _) = TestHelpers.ParseFileUrl(Url(a));
        var missing = key.Replace("/0.png", "/9.png");
        Assert.NotEqual(key, missing);
        var (response, body) = await anonymous.GetJsonAsync(TestHelpers.SignedPath(missing, exp));
        Http.AssertProblem(response, body, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task If_none_match_with_the_etag_answers_304()
    {
        var (a, _) = await TwoJobsAsync();
        var first = await anonymous.GetAsync(Url(a));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);

        using var request = new HttpRequestMessage(HttpMethod.Get, Url(a));
        request.Headers.IfNoneMatch.Add(etag);
        var second = await anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());

        // Another ETag does not match: the file comes again.
        using var stale = new HttpRequestMessage(HttpMethod.Get, Url(a));
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"0000\""));
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(stale)).StatusCode);
    }

    [Fact]
    public async Task File_answer_carries_cache_control_max_age_within_the_link_lifetime()
    {
        var (a, _) = await TwoJobsAsync();
        var (_, exp, _) = TestHelpers.ParseFileUrl(Url(a));
        var response = await anonymous.GetAsync(Url(a));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var maxAge = response.Headers.CacheControl?.MaxAge;
        Assert.True(maxAge is not null, $"Cache-Control: {response.Headers.CacheControl}");
        Assert.InRange(maxAge!.Value.TotalSeconds, 1, exp - DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
    }
}
