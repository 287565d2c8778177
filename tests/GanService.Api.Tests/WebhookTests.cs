using System.Net;
using System.Text.Json;
using GanService.Core.Webhooks;
using Microsoft.Extensions.Options;

namespace GanService.Api.Tests;

[Collection(ServiceCollection.Name)]
public sealed class WebhookTests(ServiceHost host) : IAsyncLifetime
{
    private readonly WebhookReceiver receiver = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await receiver.DisposeAsync();

    private async Task<JsonElement> GenerateWithWebhookAsync(string path, string events)
    {
        var job = await host.Client.GenerateAsync($$"""{"count":1,"seed":7,"webhook":"{{receiver.BaseUrl}}{{path}}","webhookEvents":{{events}}}""");
        Assert.Equal(receiver.BaseUrl + path, job.GetProperty("webhook").GetString());
        return job;
    }

    private async Task<JsonElement> DeliveriesWhenAsync(string jobId, Func<JsonElement, bool> done, string what)
    {
        JsonElement deliveries = default;
        await ServiceHost.WaitUntilAsync(async () =>
        {
            (_, deliveries) = await host.Client.GetJsonAsync($"/v1/jobs/{jobId}/webhooks");
            return deliveries.ValueKind == JsonValueKind.Array && done(deliveries);
        }, TimeSpan.FromSeconds(30), what, () => deliveries.ToString());
        return deliveries;
    }

    [Fact]
    public async Task Start_and_completed_deliveries_arrive_signed_with_the_keys_secret_and_carry_the_job()
    {
        var (_, secretBody) = await host.Client.GetJsonAsync("/v1/webhooks/secret");
        string secret = secretBody.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret);

        var job = await GenerateWithWebhookAsync("/ok", """["start","completed"]""");
        string id = job.GetProperty("id").GetString()!;
        var deliveries = await DeliveriesWhenAsync(id, d => d.GetArrayLength() == 2 && d.EnumerateArray().All(x => x.GetProperty("status").GetString() == "succeeded"),
            "both deliveries to succeed");
        Assert.Equal("start,completed", string.Join(",", deliveries.EnumerateArray().Select(d => d.GetProperty("event").GetString())));
        Assert.All(deliveries.EnumerateArray(), d => Assert.Equal(200, d.GetProperty("attemptLog")[0].GetProperty("statusCode").GetInt32()));

        var got = receiver.On("/ok").Where(r => r.Body.Contains(id)).ToList();
        Assert.Equal(2, got.Count);
        foreach (var r in got)
        {
            long timestamp = long.Parse(r.Timestamp!);
            Assert.InRange(DateTimeOffset.FromUnixTimeSeconds(timestamp), DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddSeconds(5));
            Assert.True(WebhookSignature.Verify(secret, r.Id!, timestamp, r.Body, r.Signature!), $"signature does not verify: {r.Signature}");
            Assert.False(WebhookSignature.Verify(secret, r.Id!, timestamp, r.Body.Replace(id, Guid.Empty.ToString()), r.Signature!));
            Assert.Contains(r.Id, deliveries.EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        }
        var completed = JsonDocument.Parse(got.Single(r => r.Body.Contains("\"job.completed\"")).Body).RootElement;
        Assert.Equal("succeeded", completed.GetProperty("data").GetProperty("status").GetString());
        var link = completed.GetProperty("data").GetProperty("outputs")[0].GetProperty("url").GetString()!;
        var png = await host.Client.GetByteArrayAsync(link);
        Assert.True(Http.PngSize(png).Width > 0);
        Assert.Equal(Http.Sha(await host.Client.DownloadAsync(job.GetProperty("outputs")[0])), Http.Sha(png));
        var start = JsonDocument.Parse(got.Single(r => r.Body.Contains("\"job.start\"")).Body).RootElement;
        Assert.Equal(id, start.GetProperty("data").GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_receiver_answering_500_gets_every_retry_with_one_webhook_id_then_the_delivery_fails_and_the_job_stays_succeeded()
    {
        receiver.Behaviour = (path, _) => (TimeSpan.Zero, path == "/down" ? 500 : 200);
        var job = await GenerateWithWebhookAsync("/down", """["completed"]""");
        string id = job.GetProperty("id").GetString()!;
        var deliveries = await DeliveriesWhenAsync(id, d => d.GetArrayLength() == 1 && d[0].GetProperty("status").GetString() == "failed", "the delivery to fail");
        var delivery = deliveries[0];
        // Webhooks__RetrySchedule=1,1: the first attempt and two retries.
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
        Assert.Equal(3, delivery.GetProperty("attemptLog").GetArrayLength());
        Assert.All(delivery.GetProperty("attemptLog").EnumerateArray(), a =>
        {
            Assert.Equal(500, a.GetProperty("statusCode").GetInt32());
            Assert.Equal("HTTP 500", a.GetProperty("error").GetString());
        });
        var seen = receiver.On("/down").Where(r => r.Body.Contains(id)).ToList();
        Assert.Equal(3, seen.Count);
        Assert.Single(seen.Select(r => r.Id).Distinct());
        Assert.Single(seen.Select(r => r.Body).Distinct());
        var (_, after) = await host.Client.GetJsonAsync($"/v1/jobs/{id}");
        Assert.Equal("succeeded", after.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_receiver_that_times_out_is_retried_and_its_later_answer_completes_the_delivery()
    {
        receiver.Behaviour = (path, n) => path == "/slow" && n == 1 ? (TimeSpan.FromSeconds(5), 200) : (TimeSpan.Zero, 204);
        var job = await GenerateWithWebhookAsync("/slow", """["completed"]""");
        var deliveries = await DeliveriesWhenAsync(job.GetProperty("id").GetString()!,
            d => d.GetArrayLength() == 1 && d[0].GetProperty("status").GetString() == "succeeded", "the retried delivery to succeed");
        var log = deliveries[0].GetProperty("attemptLog");
        Assert.Equal(2, log.GetArrayLength());
        Assert.Contains("no answer within 1.5 s", log[0].GetProperty("error").GetString());
        Assert.False(log[0].TryGetProperty("statusCode", out var code) && code.ValueKind == JsonValueKind.Number);
        Assert.Equal(204, log[1].GetProperty("statusCode").GetInt32());
    }

    [Theory]
    [InlineData("""{"webhook":"http://169.254.169.254/latest/meta-data"}""", "webhook")]
    [InlineData("""{"webhook":"http://10.0.0.7/hook"}""", "webhook")]
    [InlineData("""{"webhook":"http://127.0.0.2:8080/hook"}""", "webhook")]
    [InlineData("""{"webhook":"http://[::1]:8080/hook"}""", "webhook")]
    [InlineData("""{"webhook":"http://[::ffff:192.168.1.1]/hook"}""", "webhook")]
    [InlineData("""{"webhook":"http://[fd00::1]/hook"}""", "webhook")]
    [InlineData("""{"webhook":"ftp://example.com/hook"}""", "webhook")]
    [InlineData("""{"webhook":"not a url"}""", "webhook")]
    [InlineData("""{"webhook":"https://user:secret@example.com/hook"}""", "webhook")]
    [InlineData("""{"webhook":"http://127.0.0.1:9/hook","webhookEvents":["finished"]}""", "webhookEvents")]
    [InlineData("""{"webhook":"http://127.0.0.1:9/hook","webhookEvents":[]}""", "webhookEvents")]
    [InlineData("""{"webhookEvents":["completed"]}""", "webhookEvents")]
    public async Task Internal_malformed_or_eventless_webhooks_answer_400_naming_the_field_and_queue_nothing(string body, string field)
    {
        long before = await host.JobCountAsync();
        var (response, problem) = await host.Client.PostAsync("/v1/generations", body);
        Http.AssertProblem(response, problem, HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await host.JobCountAsync());
    }

    [Fact]
    public async Task Rotating_the_secret_changes_it_and_later_reads_return_the_new_one()
    {
        var client = host.NewClient((await host.InsertKeyAsync("webhook-rotation", "jobs")).Key);
        var (_, first) = await client.GetJsonAsync("/v1/webhooks/secret");
        var (_, again) = await client.GetJsonAsync("/v1/webhooks/secret");
        var (rotateResponse, rotated) = await client.PostAsync("/v1/webhooks/secret/rotate", "");
        var (_, after) = await client.GetJsonAsync("/v1/webhooks/secret");
        Assert.Equal(HttpStatusCode.OK, rotateResponse.StatusCode);
        Assert.Equal(first.GetProperty("secret").GetString(), again.GetProperty("secret").GetString());
        Assert.NotEqual(first.GetProperty("secret").GetString(), rotated.GetProperty("secret").GetString());
        Assert.Equal(rotated.GetProperty("secret").GetString(), after.GetProperty("secret").GetString());
        var (_, bootstrap) = await host.Client.GetJsonAsync("/v1/webhooks/secret");
        Assert.NotEqual(bootstrap.GetProperty("secret").GetString(), after.GetProperty("secret").GetString());
    }
}

/// <summary>The target policy and the signature, without a server.</summary>
public sealed class WebhookPolicyTests
{
    private static WebhookTargets Targets(string networks = "", string hosts = "") =>
        new(Options.Create(new WebhookOptions { AllowedNetworks = networks, AllowedHosts = hosts }));

    [Fact]
    public void Signatures_reproduce_the_standard_webhooks_test_vector()
    {
        const string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            WebhookSignature.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}"""));
        Assert.True(WebhookSignature.Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}""",
            "v1,bm9wZQ== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
        Assert.False(WebhookSignature.Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, """{"test": 2432232314}""",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.20.30.40")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.251")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::10.0.0.1")]
    [InlineData("64:ff9b::a00:5")]
    [InlineData("2002:a00:1::1")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2")]
    public void Internal_addresses_are_refused_by_default(string address) =>
        Assert.NotNull(Targets().Refusal(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("2606:4700:4700::1111")]
    public void Public_addresses_are_allowed(string address) =>
        Assert.Null(Targets().Refusal(IPAddress.Parse(address)));

    [Fact]
    public void Allowed_networks_open_exactly_their_range()
    {
        var targets = Targets("10.1.0.0/16, 127.0.0.1");
        Assert.Null(targets.Refusal(IPAddress.Parse("10.1.200.3")));
        Assert.Null(targets.Refusal(IPAddress.Parse("127.0.0.1")));
        Assert.NotNull(targets.Refusal(IPAddress.Parse("10.2.0.1")));
        Assert.NotNull(targets.Refusal(IPAddress.Parse("127.0.0.2")));
    }

    [Fact]
    public void Allowed_hosts_limit_targets_to_the_names_and_subdomains_listed()
    {
        var targets = Targets(hosts: "hooks.shop.example, *.partner.example");
        Assert.Null(targets.CheckUrl("https://hooks.shop.example/gan", out _));
        Assert.Null(targets.CheckUrl("https://eu.partner.example/gan", out _));
        Assert.NotNull(targets.CheckUrl("https://partner.example.evil.test/gan", out _));
        Assert.NotNull(targets.CheckUrl("https://shop.example/gan", out _));
    }

    [Fact]
    public async Task A_name_that_resolves_to_loopback_is_refused_before_anything_is_sent()
    {
        var targets = Targets();
        Assert.Null(targets.CheckUrl("http://localhost:8080/hook", out var uri));
        var why = await targets.CheckResolvedAsync(uri!, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.NotNull(why);
        Assert.Contains("loopback", why);
        var e = await Assert.ThrowsAsync<HttpRequestException>(async () => await targets.ConnectAsync(new DnsEndPoint("localhost", 8080), CancellationToken.None));
        Assert.Contains("loopback", e.Message);
    }
}
