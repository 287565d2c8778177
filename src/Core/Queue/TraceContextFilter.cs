using System.Diagnostics;
using Hangfire.Client;
using Hangfire.Server;

namespace GanService.Core.Queue;

/// <summary>
/// Carries the W3C trace context in the Hangfire job: when a job is created, the current activity's
/// <c>traceparent</c> (and <c>tracestate</c>) become job parameters; when a worker performs it, a consumer span
/// "&lt;queue&gt; job" starts with that parent, so one trace runs from the HTTP request through the queue into the worker.
/// A job enqueued with no activity (the reconciler's re-delivery) starts a trace of its own.
/// </summary>
public sealed class TraceContextFilter : IClientFilter, IServerFilter
{
    private const string ActivityItem = "ganservice.activity";

    public void OnCreating(CreatingContext context)
    {
        if (Activity.Current is not { } current) return;
        context.SetJobParameter("traceparent", current.Id);
        if (current.TraceStateString is { } state) context.SetJobParameter("tracestate", state);
    }

    public void OnCreated(CreatedContext context) { }

    public void OnPerforming(PerformingContext context)
    {
        var parent = context.GetJobParameter<string>("traceparent");
        ActivityContext.TryParse(parent, context.GetJobParameter<string>("tracestate"), isRemote: true, out var parentContext);
        string queue = context.BackgroundJob.Job.Queue ?? "default";
        var activity = Telemetry.Source.StartActivity($"{queue} job", ActivityKind.Consumer, parentContext);
        if (activity is null) return;
        activity.SetTag("messaging.system", "hangfire");
        activity.SetTag("messaging.destination.name", queue);
        activity.SetTag("messaging.message.id", context.BackgroundJob.Id);
        if (context.BackgroundJob.Job.Args.FirstOrDefault() is Guid jobId) activity.SetTag("ganservice.job_id", jobId.ToString());
        context.Items[ActivityItem] = activity;
    }

    public void OnPerformed(PerformedContext context)
    {
        if (!context.Items.TryGetValue(ActivityItem, out var item) || item is not Activity activity) return;
        if (context.Exception is { } e && !context.ExceptionHandled) activity.SetStatus(ActivityStatusCode.Error, e.Message);
        activity.Dispose();
    }
}
