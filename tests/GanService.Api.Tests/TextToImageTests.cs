using System.Net;
using System.Text.Json;

namespace GanService.Api.Tests;

/// <summary>
/// POST /v1/text-to-image over real HTTP, with the real worker running the shipped StackGAN. Whether the served model
/// has a Stage-II is read from GET /v1/models, not assumed: its final images are labelled <c>stage-two</c> at its
/// resolution, or <c>stage-one</c> at 64 px when it has only Stage-I.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class TextToImageTests(ServiceHost host)
{
    private const string Model = "stackgan-emoji";
    private readonly HttpClient client = host.Client;

    /// <summary>Whether the served model has a Stage-II, and the label and size of its final images.</summary>
    private async Task<(bool StageTwo, string Label, int Size)> FinalStageAsync()
    {
        var (response, model) = await client.GetJsonAsync($"/v1/models/{Model}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {model}");
        bool stageTwo = model.GetProperty("config").TryGetProperty("stageTwo", out var s) && s.ValueKind == JsonValueKind.Object;
        return stageTwo ? (true, "stage-two", model.GetProperty("resolution").GetInt32()) : (false, "stage-one", 64);
    }

    /// <summary>Posts with Prefer: wait and returns the finished job.</summary>
    private async Task<JsonElement> DrawAsync(string body)
    {
        var (response, job) = await client.PostAsync("/v1/text-to-image", body, ("Prefer", "wait=60"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {job}");
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        Assert.Equal("text-to-image", job.GetProperty("kind").GetString());
        return job;
    }

    private async Task<string> ShaAsync(JsonElement output) => Http.Sha(await client.DownloadAsync(output));

    [Fact]
    public async Task Prompt_with_prefer_wait_returns_finished_job_with_final_and_stage_one_pngs()
    {
        var (stageTwo, finalLabel, size) = await FinalStageAsync();
        var job = await DrawAsync(stageTwo
            ? """{"prompt":"red apple","count":3,"seed":7,"includeStageOne":true}"""
            : """{"prompt":"red apple","count":3,"seed":7}""");

        Assert.Equal(Model, job.GetProperty("model").GetString());
        Assert.Matches("^[0-9a-f]{12}$", job.GetProperty("modelVersion").GetString());
        // The input as the job stores it: what was asked, with its defaults, and nothing internal.
        var input = job.GetProperty("input");
        Assert.Equal(["count", "format", "includeStageOne", "prompt", "seed"], input.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("red apple", input.GetProperty("prompt").GetString());
        Assert.Equal(stageTwo, input.GetProperty("includeStageOne").GetBoolean());
        Assert.Equal("png", input.GetProperty("format").GetString());

        // The finals first, then (with includeStageOne) each seed's 64 px Stage-I image.
        var outputs = job.GetProperty("outputs").EnumerateArray().ToList();
        var labels = new List<string> { finalLabel, finalLabel, finalLabel };
        var seeds = new List<long> { 7, 8, 9 };
        if (stageTwo)
        {
            labels.AddRange(new[] { "stage-one", "stage-one", "stage-one" });
            seeds.AddRange(new long[] { 7, 8, 9 });
        }
        Assert.Equal(labels, outputs.Select(o => o.GetProperty("label").GetString()!));
        Assert.Equal(seeds, outputs.Select(o => o.GetProperty("seed").GetInt64()));
        for (int i = 0; i < outputs.Count; i++)
        {
            int expected = i < 3 ? size : 64;
            Assert.Equal("image/png", outputs[i].GetProperty("contentType").GetString());
            Assert.Equal((expected, expected), (outputs[i].GetProperty("width").GetInt32(), outputs[i].GetProperty("height").GetInt32()));
            var response = await client.GetAsync(outputs[i].GetProperty("url").GetString());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(response.Headers.ETag);
            Assert.Equal((expected, expected), Http.PngSize(await response.Content.ReadAsByteArrayAsync()));
        }
        Assert.Equal("cpu", job.GetProperty("device").GetString());
        // What the text encoder read.
        var detail = job.GetProperty("detail");
        Assert.True(detail.GetProperty("promptTokens").GetInt32() > 0, detail.ToString());
        Assert.False(detail.GetProperty("truncated").GetBoolean(), detail.ToString());

    }

    [Fact]
    public async Task A_stage_one_only_model_serves_64_pixel_finals_and_refuses_include_stage_one()
    {
        // The shipped model's Stage-I packed alone (ServiceHost): its finals are the 64 px Stage-I images, labelled so.
        var job = await DrawAsync($$"""{"model":"{{ServiceHost.StageOneOnlyModel}}","prompt":"red apple","count":2,"seed":7}""");
        var outputs = job.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(["stage-one", "stage-one"], outputs.Select(o => o.GetProperty("label").GetString()!));
        Assert.All(outputs, o => Assert.Equal((64, 64), (o.GetProperty("width").GetInt32(), o.GetProperty("height").GetInt32())));
        Assert.Equal((64, 64), Http.PngSize(await client.DownloadAsync(outputs[0])));
        // Asking for the Stage-I images again is refused before anything is queued.
        long before = await host.JobCountAsync();
        var (refused, body) = await client.PostAsync("/v1/text-to-image",
            $$"""{"model":"{{ServiceHost.StageOneOnlyModel}}","prompt":"red apple","includeStageOne":true}""");
        Http.AssertProblem(refused, body, HttpStatusCode.BadRequest, "includeStageOne");
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Fact]
    public async Task Same_prompt_and_seed_give_identical_pixels_alone_or_in_a_batch()
    {
        const string body = """{"prompt":"red apple","count":2,"seed":123456789}""";
        var a = await DrawAsync(body);
        var b = await DrawAsync(body);
        Assert.NotEqual(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        for (int i = 0; i < 2; i++)
            Assert.Equal(await ShaAsync(a.GetProperty("outputs")[i]), await ShaAsync(b.GetProperty("outputs")[i]));

        // Image i uses seed + i, and its pixels do not depend on the others drawn with it.
        var batch = await DrawAsync("""{"prompt":"red apple","count":3,"seed":10}""");
        var alone = await DrawAsync("""{"prompt":"red apple","count":1,"seed":12}""");
        var inBatch = batch.GetProperty("outputs")[2];
        Assert.Equal(12, inBatch.GetProperty("seed").GetInt64());
        Assert.Equal(await ShaAsync(inBatch), await ShaAsync(alone.GetProperty("outputs")[0]));
    }

    [Fact]
    public async Task The_prompt_steers_the_image_and_is_read_after_normalisation()
    {
        var plain = await ShaAsync((await DrawAsync("""{"prompt":"red apple","count":1,"seed":31}""")).GetProperty("outputs")[0]);
        // Case, runs of whitespace and full-width letters (NFKC) are normalised away before tokenising.
        var shouted = await DrawAsync("""{"prompt":"RED   apple","count":1,"seed":31}""");
        var wide = await DrawAsync("""{"prompt":"ｒｅｄ apple","count":1,"seed":31}""");
        Assert.Equal("RED   apple", shouted.GetProperty("input").GetProperty("prompt").GetString());   // stored as sent
        Assert.Equal(plain, await ShaAsync(shouted.GetProperty("outputs")[0]));
        Assert.Equal(plain, await ShaAsync(wide.GetProperty("outputs")[0]));
        // Another prompt with the same seed draws another image.
        var other = await DrawAsync("""{"prompt":"green heart","count":1,"seed":31}""");
        Assert.NotEqual(plain, await ShaAsync(other.GetProperty("outputs")[0]));
    }

    [Fact]
    public async Task Unknown_words_and_long_prompts_never_fail_and_are_reported_in_detail()
    {
        var madeUp = await DrawAsync("""{"prompt":"zxqv blorptangle frumious","count":1,"seed":3}""");
        var detail = madeUp.GetProperty("detail");
        Assert.True(detail.GetProperty("unknownTokens").GetInt32() > 0, detail.ToString());

        // 256 characters of real words: far more tokens than the encoder reads, so it is cut, and says so.
        var prompt = string.Concat(Enumerable.Repeat("red apple ", 25)) + "grapes";
        Assert.Equal(256, prompt.Length);
        var longJob = await DrawAsync($$"""{"prompt":"{{prompt}}","count":1,"seed":3}""");
        Assert.Equal(prompt, longJob.GetProperty("input").GetProperty("prompt").GetString());
        Assert.True(longJob.GetProperty("detail").GetProperty("truncated").GetBoolean(), longJob.GetProperty("detail").ToString());
    }

    [Fact]
    public async Task Stackgan_emoji_is_the_default_text_to_image_model_and_serves_no_other_kind()
    {
        var (_, models) = await client.GetJsonAsync("/v1/models");
        var model = Assert.Single(models.EnumerateArray(), m => m.GetProperty("name").GetString() == Model);
        Assert.Equal("text-to-image", model.GetProperty("kind").GetString());
        Assert.Equal("stackgan", model.GetProperty("family").GetString());
        Assert.True(model.GetProperty("isDefault").GetBoolean());
        Assert.Equal((await FinalStageAsync()).Size, model.GetProperty("resolution").GetInt32());
        Assert.False(model.TryGetProperty("labels", out _), model.ToString());
        Assert.Single(models.EnumerateArray(), m => m.GetProperty("kind").GetString() == "text-to-image" && m.GetProperty("isDefault").GetBoolean());

        // A model is only served for its own kind: 400 naming model, nothing queued.
        long before = await host.JobCountAsync();
        var (generation, generationBody) = await client.PostAsync("/v1/generations", """{"model":"stackgan-emoji","count":1}""");
        Http.AssertProblem(generation, generationBody, HttpStatusCode.BadRequest, "model");
        var (textToImage, textToImageBody) = await client.PostAsync("/v1/text-to-image", """{"model":"dcgan-fashion","prompt":"red apple"}""");
        Http.AssertProblem(textToImage, textToImageBody, HttpStatusCode.BadRequest, "model");
        Assert.Contains("generation model", textToImageBody.GetProperty("errors").GetProperty("model")[0].GetString());
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Fact]
    public async Task Without_prefer_wait_the_answer_is_202_with_location_and_the_job_finishes()
    {
        var (response, job) = await client.PostAsync("/v1/text-to-image", """{"prompt":"red apple"}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = job.GetProperty("id").GetString();
        Assert.Equal($"/v1/jobs/{id}", response.Headers.Location?.ToString());
        Assert.True(job.GetProperty("input").GetProperty("seed").GetInt64() >= 0, "a random seed is drawn and reported");
        Assert.Equal(1, job.GetProperty("input").GetProperty("count").GetInt32());
        Assert.False(job.GetProperty("input").GetProperty("includeStageOne").GetBoolean());
        await ServiceHost.WaitUntilAsync(async () =>
        {
            var (_, current) = await client.GetJsonAsync($"/v1/jobs/{id}");
            return current.GetProperty("status").GetString() == "succeeded";
        }, TimeSpan.FromSeconds(90), "the job to succeed");
    }

    public static TheoryData<string, string, string> InvalidBodies => new()
    {
        { "prompt missing", """{"count":1}""", "prompt" },
        { "prompt empty", """{"prompt":""}""", "prompt" },
        { "prompt only spaces", """{"prompt":"   "}""", "prompt" },
        { "prompt of 257 characters", $$"""{"prompt":"{{new string('a', 257)}}"}""", "prompt" },
        { "prompt of 257 emoji", $$"""{"prompt":"{{string.Concat(Enumerable.Repeat("😀", 257))}}"}""", "prompt" },
        { "prompt with NUL", """{"prompt":"red\u0000apple"}""", "prompt" },
        { "prompt with a control character", """{"prompt":"red\u001bapple"}""", "prompt" },
        { "prompt with a lone surrogate", """{"prompt":"a\ud800b"}""", "prompt" },
        { "prompt a number", """{"prompt":123}""", "prompt" },
        { "count 0", """{"prompt":"red apple","count":0}""", "count" },
        { "count 17", """{"prompt":"red apple","count":17}""", "count" },
        { "count as a string", """{"prompt":"red apple","count":"3"}""", "count" },
        { "count fractional", """{"prompt":"red apple","count":2.5}""", "count" },
        { "seed as a string", """{"prompt":"red apple","seed":"abc"}""", "seed" },
        { "seed beyond int64", """{"prompt":"red apple","seed":9223372036854775808}""", "seed" },
        { "unknown model", """{"prompt":"red apple","model":"no-such-model"}""", "model" },
        { "includeStageOne as a string", """{"prompt":"red apple","includeStageOne":"yes"}""", "includeStageOne" },
        { "format gif", """{"prompt":"red apple","format":"gif"}""", "format" },
        { "unknown field promt", """{"promt":"red apple"}""", "promt" },
        { "JSON array instead of object", """[{"prompt":"red apple"}]""", "body" },
    };

    /// <summary>Sends the request and asserts the problem, then that the jobs table did not grow.</summary>
    private async Task AssertRejectedAsync(HttpContent content, HttpStatusCode status, string? field)
    {
        long before = await host.JobCountAsync();
        var (response, body) = await client.SendAsync(HttpMethod.Post, "/v1/text-to-image", content, ("Prefer", "wait=5"));
        Http.AssertProblem(response, body, status, field);
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_text_to_image_field_answers_400_naming_it_and_queues_nothing(string _, string body, string field) =>
        await AssertRejectedAsync(Http.Json(body), HttpStatusCode.BadRequest, field);

    [Fact]
    public async Task Several_invalid_fields_are_all_named_in_one_problem()
    {
        long before = await host.JobCountAsync();
        var (response, body) = await client.PostAsync("/v1/text-to-image", """{"prompt":"","count":0,"format":"bmp","model":"no-such-model"}""");
        foreach (var field in new[] { "prompt", "count", "format", "model" })
            Http.AssertProblem(response, body, HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Fact]
    public async Task Non_json_content_type_answers_415_problem_and_queues_nothing() =>
        await AssertRejectedAsync(Http.Json("""{"prompt":"red apple"}""", "text/plain"), HttpStatusCode.UnsupportedMediaType, field: null);

    [Fact]
    public async Task Body_over_64_KiB_answers_413_problem_and_queues_nothing() =>
        await AssertRejectedAsync(Http.Json($$"""{"prompt":"{{new string('x', 100 * 1024)}}"}"""), HttpStatusCode.RequestEntityTooLarge, field: null);

    [Theory]
    [InlineData("a", 256)]
    [InlineData("😀", 256)]   // 512 UTF-16 units: the limit counts code points
    public async Task Prompt_of_256_characters_is_accepted(string character, int repeats)
    {
        var prompt = string.Concat(Enumerable.Repeat(character, repeats));
        var (response, job) = await client.PostAsync("/v1/text-to-image", $$"""{"prompt":"{{prompt}}","seed":5}""");
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"expected 202, got {(int)response.StatusCode}: {job}");
        Assert.Equal(prompt, job.GetProperty("input").GetProperty("prompt").GetString());
        await client.PostEmptyAsync($"/v1/jobs/{job.GetProperty("id").GetString()}/cancel");
    }

    [Fact]
    public async Task Same_idempotency_key_replays_the_job_and_a_different_prompt_under_it_answers_422()
    {
        var key = "t2i-" + Guid.NewGuid();
        const string body = """{"prompt":"red apple","count":1,"seed":77}""";
        var (first, a) = await client.PostAsync("/v1/text-to-image", body, ("Idempotency-Key", key));
        var (second, b) = await client.PostAsync("/v1/text-to-image", body, ("Idempotency-Key", key));
        Assert.True(first.IsSuccessStatusCode, $"{(int)first.StatusCode}: {a}");
        Assert.True(second.IsSuccessStatusCode, $"{(int)second.StatusCode}: {b}");
        Assert.Equal(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());

        long before = await host.JobCountAsync();
        var (other, otherBody) = await client.PostAsync("/v1/text-to-image", """{"prompt":"green heart","count":1,"seed":77}""", ("Idempotency-Key", key));
        Http.AssertProblem(other, otherBody, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(before, await host.JobCountAsync());
        await client.PostEmptyAsync($"/v1/jobs/{a.GetProperty("id").GetString()}/cancel");
    }
}
