using System.Diagnostics;

namespace GanService.Api.Tests;

/// <summary>One trace follows a job from the HTTP request through Hangfire into the worker, as the OTLP collector receives it.</summary>
[Collection(ServiceCollection.Name)]
public sealed class TracingTests(ServiceHost host)
{
    [Fact]
    public async Task A_jobs_trace_runs_from_the_request_through_the_queue_into_the_worker()
    {
        // The caller's own trace context: the API continues it, the job carries it, the worker continues it again.
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var callerSpan = ActivitySpanId.CreateRandom().ToHexString();
        var (response, job) = await host.Client.PostAsync("/v1/generations", """{"count":1,"seed":3}""",
            ("Prefer", "wait=30"), ("traceparent", $"00-{traceId}-{callerSpan}-01"));
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        string jobId = job.GetProperty("id").GetString()!;

        List<OtlpReceiver.Span> trace = [];
        await ServiceHost.WaitUntilAsync(() =>
        {
            trace = host.Otlp.Spans.Where(s => s.TraceId == traceId).ToList();
            return Task.FromResult(trace.Any(s => s.Service == "ganservice-worker" && s.Name == "generation job")
                && trace.Any(s => s.Service == "ganservice-api" && s.Kind == 2));
        }, TimeSpan.FromSeconds(30), "the request's and the worker's spans to reach the collector",
            () => string.Join("\n", trace.Select(s => $"{s.Service} {s.Scope} {s.Name} {s.SpanId} ← {s.ParentSpanId}")));

        // SERVER span of the request, child of the caller's span (kinds: 2 server, 3 client, 4 producer, 5 consumer).
        var request = Assert.Single(trace, s => s.Service == "ganservice-api" && s.Kind == 2);
        Assert.Equal(callerSpan, request.ParentSpanId);
        Assert.Equal("POST", request.Attributes["http.request.method"]);
        // The API's enqueue (producer) under the request, and the worker's run (consumer) under the enqueue.
        var enqueue = Assert.Single(trace, s => s.Service == "ganservice-api" && s.Name == "generation enqueue");
        Assert.Equal(4, enqueue.Kind);
        Assert.Equal(jobId, enqueue.Attributes["ganservice.job_id"]);
        Assert.Contains(trace, s => s.SpanId == enqueue.ParentSpanId);
        var run = Assert.Single(trace, s => s.Service == "ganservice-worker" && s.Name == "generation job");
        Assert.Equal(5, run.Kind);
        Assert.Equal(enqueue.SpanId, run.ParentSpanId);
        Assert.Equal(jobId, run.Attributes["ganservice.job_id"]);
        Assert.Equal("generation", run.Attributes["messaging.destination.name"]);
    }
}
