using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Xunit.Abstractions;

namespace GanService.Api.Tests;

/// <summary>
/// Every malformed or out-of-range POST /v1/generations answers a 4xx problem+json naming what was wrong, and queues
/// nothing: each case counts the rows of <c>jobs</c> before and after (the collection's tests run one at a time).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class BadInputTests(ServiceHost host, ITestOutputHelper output)
{
    private readonly HttpClient client = host.Client;

    /// <summary>Sends the request and asserts the problem, then that the jobs table did not grow.</summary>
    private async Task AssertRejectedAsync(HttpContent? content, HttpStatusCode status, string? field, bool anyErrors = false,
        params (string Name, string Value)[] headers)
    {
        long before = await host.JobCountAsync();
        var (response, body) = await client.SendAsync(HttpMethod.Post, "/v1/generations", content, [("Prefer", "wait=5"), .. headers]);
        if (anyErrors) TestHelpers.AssertProblemWithErrors(response, body, status);
        else Http.AssertProblem(response, body, status, field);
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Theory]
    [InlineData("count as a string", """{"count":"3"}""", "count")]
    [InlineData("count 0", """{"count":0}""", "count")]
    [InlineData("count 65", """{"count":65}""", "count")]
    [InlineData("count 1000", """{"count":1000}""", "count")]
    [InlineData("count fractional", """{"count":2.5}""", "count")]
    [InlineData("seed as a string", """{"seed":"abc"}""", "seed")]
    [InlineData("seed beyond int64", """{"seed":9223372036854775808}""", "seed")]
    [InlineData("unknown model", """{"model":"no-such-model"}""", "model")]
    [InlineData("unknown label", """{"label":"hat"}""", "label")]
    [InlineData("truncation 0", """{"truncation":0}""", "truncation")]
    [InlineData("truncation 1.5", """{"truncation":1.5}""", "truncation")]
    [InlineData("truncation -1", """{"truncation":-1}""", "truncation")]
    [InlineData("format gif", """{"format":"gif"}""", "format")]
    [InlineData("unknown field lable", """{"lable":"bag"}""", "lable")]
    [InlineData("JSON array instead of object", """[{"count":1}]""", "body")]
    [InlineData("JSON string instead of object", "\"count\"", "body")]
    public async Task Invalid_generation_field_answers_400_naming_it_and_queues_nothing(string _, string body, string field) =>
        await AssertRejectedAsync(Http.Json(body), HttpStatusCode.BadRequest, field);

    [Theory]
    [InlineData("""{"count":""")]
    [InlineData("""{"count":1,}""")]
    [InlineData("""{count:1}""")]
    [InlineData("""{"label":"bag" "count":1}""")]
    public async Task Malformed_json_answers_400_problem_with_errors_and_queues_nothing(string body) =>
        // A syntax error has no field to blame: the key is the JSON path reached or "body".
        await AssertRejectedAsync(Http.Json(body), HttpStatusCode.BadRequest, field: null, anyErrors: true);

    [Theory]
    [InlineData("null")]
    [InlineData("")]
    public async Task Empty_or_null_body_answers_400_problem_naming_body_and_queues_nothing(string body) =>
        // Like a non-object root ("[...]" above), a missing body is blamed on "body".
        await AssertRejectedAsync(Http.Json(body), HttpStatusCode.BadRequest, "body");

    [Fact]
    public async Task Body_over_64_KiB_answers_413_problem_and_queues_nothing()
    {
        var body = $$"""{"label":"{{new string('x', 100 * 1024)}}"}""";
        await AssertRejectedAsync(Http.Json(body), HttpStatusCode.RequestEntityTooLarge, field: null);
    }

    [Fact]
    public async Task Chunked_body_over_64_KiB_without_content_length_answers_413_problem_and_queues_nothing()
    {
        var bytes = Encoding.UTF8.GetBytes($$"""{"label":"{{new string('x', 100 * 1024)}}"}""");
        var content = new StreamContent(new NonSeekableStream(bytes));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await AssertRejectedAsync(content, HttpStatusCode.RequestEntityTooLarge, field: null);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task Non_json_content_type_answers_415_problem_and_queues_nothing(string contentType) =>
        await AssertRejectedAsync(Http.Json("""{"count":1}""", contentType), HttpStatusCode.UnsupportedMediaType, field: null);

    [Fact]
    public async Task Missing_content_type_answers_415_problem_and_queues_nothing()
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"count":1}"""));
        await AssertRejectedAsync(content, HttpStatusCode.UnsupportedMediaType, field: null);
    }

    [Fact]
    public async Task Idempotency_key_over_255_characters_answers_400_naming_it_and_queues_nothing() =>
        await AssertRejectedAsync(Http.Json("""{"count":1}"""), HttpStatusCode.BadRequest, "Idempotency-Key",
            headers: ("Idempotency-Key", new string('k', 256)));

    [Fact]
    public async Task Several_invalid_fields_are_all_named_in_one_problem()
    {
        long before = await host.JobCountAsync();
        var (response, body) = await client.PostAsync("/v1/generations", """{"count":0,"truncation":2,"format":"bmp","label":"hat"}""");
        foreach (var field in new[] { "count", "truncation", "format", "label" })
            Http.AssertProblem(response, body, HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await host.JobCountAsync());
    }

    /// <summary>
    /// ~100 seeded random mutations of a valid body (type swaps, huge numbers, deep nesting, truncation, random bytes):
    /// every answer is 2xx or a 4xx problem+json, never a 5xx, and the service is still ready afterwards.
    /// </summary>
    [Fact]
    public async Task Fuzzed_generation_bodies_never_answer_5xx_and_service_stays_ready()
    {
        // Its own key, so the jobs the 2xx answers create can be found and canceled afterwards.
        var fuzzKey = await host.InsertKeyAsync("fuzz", "jobs");
        using var fuzz = host.NewClient(fuzzKey.Key);
        var rng = new Random(20261127);
        var failures = new List<string>();
        int accepted = 0;
        var statuses = new SortedDictionary<int, int>();
        for (int i = 0; i < 100; i++)
        {
            var (description, content) = BodyFuzzer.Generations.Next(rng);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/generations") { Content = content };
            var response = await fuzz.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            int status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (status is >= 200 and < 300) { accepted++; continue; }
            if (status is >= 400 and < 500 && response.Content.Headers.ContentType?.MediaType == "application/problem+json") continue;
            failures.Add($"#{i} {description}: {status} {response.Content.Headers.ContentType?.MediaType} {text[..Math.Min(300, text.Length)]}");
        }
        await fuzz.CancelUnfinishedAsync();
        output.WriteLine("fuzz answers: " + string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}")));

        Assert.True(failures.Count == 0, $"{failures.Count} fuzzed request(s) answered other than 2xx / 4xx problem+json:\n{string.Join("\n", failures)}");
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True(accepted < 100, "the fuzzer should mostly send invalid bodies");
    }

    /// <summary>A stream without a length, so HttpClient sends the body chunked.</summary>
    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
