using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace GanService.Api.Tests;

/// <summary>The Prometheus scrape endpoints of the Api (/metrics) and of a worker (its own port), read as Prometheus would.</summary>
[Collection(ServiceCollection.Name)]
public sealed partial class MetricsTests(ServiceHost host)
{
    /// <summary>The value of the first sample of <paramref name="name"/> whose labels include all of <paramref name="labels"/>; null when absent.</summary>
    private static double? Sample(string scrape, string name, params (string Key, string Value)[] labels)
    {
        foreach (var line in scrape.Split('\n'))
        {
            var m = SampleLine().Match(line);
            if (!m.Success || m.Groups["name"].Value != name) continue;
            var have = LabelPair().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value);
            if (labels.All(l => have.TryGetValue(l.Key, out var v) && v == l.Value))
                return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return null;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})?\s+(?<value>\S+)")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(\w+)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();

    private async Task<string> ScrapeAsync(string url)
    {
        using var anonymous = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var response = await anonymous.GetAsync(url.StartsWith("http", StringComparison.Ordinal) ? url : host.BaseUrl + url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Jobs_are_counted_where_they_are_accepted_and_where_they_run()
    {
        var generation = ("kind", "generation");
        var model = ("model", "dcgan-fashion");
        var api0 = await ScrapeAsync("/metrics");
        var worker0 = await ScrapeAsync(host.WorkerMetricsUrls[0]);
        double submitted0 = Sample(api0, "ganservice_jobs_submitted_total", generation, model) ?? 0;
        double finished0 = Sample(worker0, "ganservice_jobs_finished_total", generation, model, ("status", "succeeded")) ?? 0;
        double outputs0 = Sample(worker0, "ganservice_outputs_total", generation, model) ?? 0;
        double runs0 = Sample(worker0, "ganservice_job_run_seconds_count", generation, model) ?? 0;

        await host.Client.GenerateAsync("""{"count":3,"seed":5}""");
        await host.Client.GenerateAsync("""{"count":2,"seed":9}""");

        var api1 = await ScrapeAsync("/metrics");
        Assert.Equal(submitted0 + 2, Sample(api1, "ganservice_jobs_submitted_total", generation, model));
        // Read at the scrape: every queue's depth and the active jobs per kind and status (nothing is waiting now).
        foreach (var queue in new[] { "generation", "aging", "text-to-image", "video", "training" })
            Assert.Equal(0, Sample(api1, "ganservice_queue_depth", ("queue", queue)));
        Assert.Equal(0, Sample(api1, "ganservice_jobs_active", generation, ("status", "queued")));
        Assert.True(Sample(api1, "http_server_request_duration_seconds_count", ("http_route", "/v1/generations/"), ("http_request_method", "POST")) >= 2,
            string.Join("\n", api1.Split('\n').Where(l => l.StartsWith("http_server_request_duration_seconds_count", StringComparison.Ordinal)).Take(5)));

        string worker1 = "";
        await ServiceHost.WaitUntilAsync(async () =>
        {
            worker1 = await ScrapeAsync(host.WorkerMetricsUrls[0]);
            return Sample(worker1, "ganservice_jobs_finished_total", generation, model, ("status", "succeeded")) == finished0 + 2;
        }, TimeSpan.FromSeconds(20), "the worker to count both jobs", () => worker1);
        Assert.Equal(outputs0 + 5, Sample(worker1, "ganservice_outputs_total", generation, model));
        Assert.Equal(runs0 + 2, Sample(worker1, "ganservice_job_run_seconds_count", generation, model));
        Assert.True(Sample(worker1, "ganservice_job_pickup_seconds_count", generation) >= 2);
        Assert.True(Sample(worker1, "ganservice_batch_images_count", model) >= 2);
        Assert.True(Sample(worker1, "ganservice_model_cache_hits_total") >= 2);
        Assert.True(Sample(worker1, "ganservice_model_cache_loaded_bytes") > 0);
    }

    [Fact]
    public async Task Every_metric_the_grafana_dashboard_queries_is_exported()
    {
        await host.Client.GenerateAsync("""{"count":1,"seed":1}""");   // so that the job histograms have a sample
        var dashboard = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(ServiceHost.RepoRoot, "deploy", "grafana", "ganservice-dashboard.json")));
        var exprs = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        Assert.True(exprs.Count >= 12, $"{exprs.Count} queries");
        var names = exprs.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).Distinct().ToList();
        string scraped = "";
        await ServiceHost.WaitUntilAsync(async () =>
        {
            scraped = await ScrapeAsync("/metrics") + await ScrapeAsync(host.WorkerMetricsUrls[0]);
            return names.All(n => scraped.Contains("\n" + n + "{", StringComparison.Ordinal) || scraped.Contains("\n" + n + " ", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(20), "every dashboard metric in a scrape",
            () => "missing: " + string.Join(", ", names.Where(n => !scraped.Contains("\n" + n, StringComparison.Ordinal))));
    }

    [GeneratedRegex(@"\b(ganservice|http_server)_[a-z_]+")]
    private static partial Regex MetricName();

    [Fact]
    public async Task The_autoscalers_queue_query_runs_on_the_jobs_table_and_agrees_with_the_active_jobs_gauge()
    {
        var keda = await File.ReadAllTextAsync(Path.Combine(ServiceHost.RepoRoot, "deploy", "k8s", "keda.yaml"));
        var query = Regex.Match(keda, @"query: ""([^""]+)""").Groups[1].Value;
        Assert.StartsWith("SELECT count(*) FROM jobs", query);
        long fromQuery = await host.ScalarAsync<long>(query);
        var scrape = await ScrapeAsync("/metrics");
        double fromGauge = new[] { "generation", "aging", "text-to-image", "video" }
            .Sum(kind => (Sample(scrape, "ganservice_jobs_active", ("kind", kind), ("status", "queued")) ?? 0)
                       + (Sample(scrape, "ganservice_jobs_active", ("kind", kind), ("status", "running")) ?? 0));
        Assert.Equal(fromGauge, fromQuery);
    }

    [Fact]
    public async Task The_scrape_endpoint_needs_no_key_and_is_not_in_the_api_document()
    {
        Assert.Contains("# TYPE ganservice_queue_depth gauge", await ScrapeAsync("/metrics"));
        var doc = await host.Client.GetStringAsync("/swagger/v1/swagger.json");
        Assert.DoesNotContain("\"/metrics\"", doc);
    }
}
