using System.Net;
using System.Text.Json;

namespace GanService.Api.Tests;

[Collection(ServiceCollection.Name)]
public sealed class JobsApiTests(ServiceHost host)
{
    private readonly HttpClient client = host.Client;

    [Fact]
    public async Task Unknown_job_id_answers_404_problem_on_get_and_cancel()
    {
        var id = Guid.NewGuid();
        var (get, getBody) = await client.GetJsonAsync($"/v1/jobs/{id}");
        Http.AssertProblem(get, getBody, HttpStatusCode.NotFound);
        var (cancel, cancelBody) = await client.PostEmptyAsync($"/v1/jobs/{id}/cancel");
        Http.AssertProblem(cancel, cancelBody, HttpStatusCode.NotFound);
        var (events, eventsBody) = await client.GetJsonAsync($"/v1/jobs/{id}/events");
        Http.AssertProblem(events, eventsBody, HttpStatusCode.NotFound);
    }

    /// <summary>Reads a job's event stream to its end (the server closes it once the job is terminal).</summary>
    private async Task<(HttpResponseMessage Response, List<JsonElement> Events)> ReadEventsAsync(string id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/events"),
            HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        var events = new List<JsonElement>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        string? eventName = null;
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) eventName = line[7..];
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            Assert.Equal("job", eventName);
            events.Add(JsonDocument.Parse(line[6..]).RootElement.Clone());
        }
        return (response, events);
    }

    [Fact]
    public async Task Events_stream_snapshots_of_a_job_until_it_is_terminal_then_end()
    {
        var (posted, job) = await client.PostAsync("/v1/generations", """{"count":3,"seed":4242}""");
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var id = job.GetProperty("id").GetString()!;

        var (response, events) = await ReadEventsAsync(id);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.Equal(id, e.GetProperty("id").GetString()));
        var statuses = events.Select(e => e.GetProperty("status").GetString()!).ToList();
        // Never back to an earlier state, and the last snapshot is the finished job with its outputs.
        var rank = statuses.Select(s => Array.IndexOf(new[] { "queued", "running", "succeeded" }, s)).ToList();
        Assert.True(rank.All(r => r >= 0) && rank.SequenceEqual(rank.Order()), string.Join(" → ", statuses));
        Assert.Equal("succeeded", statuses[^1]);
        Assert.Equal(3, events[^1].GetProperty("outputs").GetArrayLength());
        Assert.Equal(1.0, events[^1].GetProperty("progress").GetDouble());

        // A finished job's stream is that one snapshot.
        var (again, replay) = await ReadEventsAsync(id);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("succeeded", Assert.Single(replay).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Paging_with_limit_2_returns_each_of_a_keys_jobs_once_newest_first()
    {
        var key = await host.CreateKeyWithCliAsync("paging");
        using var owner = host.NewClient(key.Key);
        var created = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            var (response, job) = await owner.PostAsync("/v1/generations", $$"""{"count":1,"seed":{{500 + i}}}""");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            created.Add(job.GetProperty("id").GetString()!);
        }

        var seen = new List<string>();
        var pageSizes = new List<int>();
        string? cursor = null;
        do
        {
            var (response, page) = await owner.GetJsonAsync("/v1/jobs?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {page}");
            var items = page.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()!).ToList();
            pageSizes.Add(items.Count);
            seen.AddRange(items);
            var next = page.GetProperty("nextCursor");
            cursor = next.ValueKind == JsonValueKind.Null ? null : next.GetString();
            Assert.True(pageSizes.Count <= 5, "paging does not end: " + string.Join(",", seen));
        } while (cursor is not null);

        Assert.Equal(new[] { 2, 2, 1 }, pageSizes);
        Assert.Equal(Enumerable.Reverse(created), seen);

        // A page exactly as large as what is left has no next cursor.
        var (_, whole) = await owner.GetJsonAsync("/v1/jobs?limit=5");
        Assert.Equal(5, whole.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, whole.GetProperty("nextCursor").ValueKind);
        await owner.CancelUnfinishedAsync();
    }

    [Fact]
    public async Task Status_and_kind_filters_return_only_matching_jobs()
    {
        var key = await host.InsertKeyAsync("filters", "jobs");
        using var owner = host.NewClient(key.Key);
        var succeeded = new List<string>();
        for (int i = 0; i < 2; i++) succeeded.Add((await owner.GenerateAsync($$"""{"count":1,"seed":{{600 + i}}}""")).GetProperty("id").GetString()!);
        // A failed training job of the same key, written directly (no training worker runs in the tests).
        var failed = Guid.NewGuid();
        await host.ExecuteAsync("""
            INSERT INTO jobs (id, kind, status, api_key_id, model, input, progress, created_at, enqueued_at, completed_at, attempts)
            VALUES (@id, 'training', 'failed', @key, 'dcgan-fashion', '{}'::jsonb, 0, now(), now(), now(), 1)
            """, ("id", failed), ("key", key.Id));

        async Task<List<string>> Ids(string query)
        {
            var (response, page) = await owner.GetJsonAsync("/v1/jobs?" + query);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {(int)response.StatusCode} {page}");
            var items = page.GetProperty("items").EnumerateArray().ToList();
            foreach (var item in items)
            {
                if (query.Contains("status=")) Assert.Contains($"status={item.GetProperty("status").GetString()}", query);
                if (query.Contains("kind=")) Assert.Contains($"kind={item.GetProperty("kind").GetString()}", query);
            }
            return items.Select(j => j.GetProperty("id").GetString()!).ToList();
        }

        Assert.Equal(Enumerable.Reverse(succeeded), await Ids("status=succeeded"));
        Assert.Equal(Enumerable.Reverse(succeeded), await Ids("kind=generation"));
        Assert.Equal(Enumerable.Reverse(succeeded), await Ids("status=succeeded&kind=generation"));
        Assert.Equal(new[] { failed.ToString() }, await Ids("status=failed"));
        Assert.Equal(new[] { failed.ToString() }, await Ids("kind=training"));
        Assert.Empty(await Ids("status=succeeded&kind=training"));
        Assert.Empty(await Ids("status=queued"));
        Assert.Equal(3, (await Ids("limit=100")).Count);
    }

    [Theory]
    [InlineData("status=done", "status")]
    [InlineData("kind=painting", "kind")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=!!!", "cursor")]
    [InlineData("cursor=eDp5", "cursor")] // base64url of "x:y"
    public async Task Invalid_list_parameter_answers_400_naming_it(string query, string parameter)
    {
        var (response, body) = await client.GetJsonAsync("/v1/jobs?" + query);
        Http.AssertProblem(response, body, HttpStatusCode.BadRequest, parameter);
    }

    [Fact]
    public async Task Canceling_a_succeeded_job_answers_409_problem_and_leaves_it_succeeded()
    {
        var job = await client.GenerateAsync("""{"count":1,"seed":3}""");
        var id = job.GetProperty("id").GetString();
        var (response, body) = await client.PostEmptyAsync($"/v1/jobs/{id}/cancel");
        Http.AssertProblem(response, body, HttpStatusCode.Conflict);
        var (_, current) = await client.GetJsonAsync($"/v1/jobs/{id}");
        Assert.Equal("succeeded", current.GetProperty("status").GetString());
        Assert.Single(current.GetProperty("outputs").EnumerateArray());
    }

    [Fact]
    public async Task Canceling_a_queued_job_answers_200_canceled_and_it_never_runs()
    {
        // A queued row the queue has not seen yet (enqueued_at NULL): the reconciler would enqueue it after its
        // 2 s grace unless the cancel sticks.
        var template = await client.GenerateAsync("""{"count":1,"seed":21}""");
        var templateId = Guid.Parse(template.GetProperty("id").GetString()!);
        var keyId = await host.KeyIdAsync(host.BootstrapKey);
        var id = Guid.CreateVersion7();
        await host.ExecuteAsync("""
            INSERT INTO jobs (id, kind, status, api_key_id, model, model_version_id, model_version, input, progress, created_at, enqueued_at, attempts)
            SELECT @id, kind, 'queued', @key, model, model_version_id, model_version, input, 0, now(), NULL, 0 FROM jobs WHERE id = @template
            """, ("id", id), ("key", keyId), ("template", templateId));

        var (response, canceled) = await client.PostEmptyAsync($"/v1/jobs/{id}/cancel");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {canceled}");
        Assert.Equal("canceled", canceled.GetProperty("status").GetString());
        Assert.Equal(id.ToString(), canceled.GetProperty("id").GetString());

        await Task.Delay(TimeSpan.FromSeconds(4));
        var (_, later) = await client.GetJsonAsync($"/v1/jobs/{id}");
        Assert.Equal("canceled", later.GetProperty("status").GetString());
        Assert.Empty(later.GetProperty("outputs").EnumerateArray());
        Assert.Equal(0L, await host.ScalarAsync<long>("SELECT count(*) FROM job_outputs WHERE job_id = @id", ("id", id)));
        Assert.Equal(0, await host.ScalarAsync<int>("SELECT attempts FROM jobs WHERE id = @id", ("id", id)));

        // Canceling again: it is terminal now.
        var (again, againBody) = await client.PostEmptyAsync($"/v1/jobs/{id}/cancel");
        Http.AssertProblem(again, againBody, HttpStatusCode.Conflict);
    }
}
