using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text;

namespace GanService.Api.Tests;

/// <summary>
/// An OTLP/HTTP (protobuf) collector on a loopback port for the test hosts: POST /v1/traces is decoded (only the
/// fields below, straight from the protobuf wire format) and spans of the GanService and ASP.NET Core scopes are kept;
/// metrics and everything else get a 200 and are dropped.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    public sealed record Span(string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
        IReadOnlyDictionary<string, string> Attributes);

    private static readonly string[] KeptScopes = ["GanService", "Microsoft.AspNetCore"];
    private readonly HttpListener listener = new();
    private readonly Task loop;
    private readonly ConcurrentQueue<Span> spans = new();

    public string BaseUrl { get; }

    public IReadOnlyList<Span> Spans => spans.ToList();

    public OtlpReceiver()
    {
        BaseUrl = $"http://127.0.0.1:{ServiceHost.FreePort()}";
        listener.Prefixes.Add(BaseUrl + "/");
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    /// <summary>What a process needs to export here: the endpoint, the protocol, a short batch delay.</summary>
    public Dictionary<string, string> Environment() => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = BaseUrl,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "300",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "600000",
    };

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception) when (!listener.IsListening) { return; }
            catch (HttpListenerException) { return; }
            _ = Task.Run(async () =>
            {
                try
                {
                    using var buffer = new MemoryStream();
                    Stream body = context.Request.InputStream;
                    if (string.Equals(context.Request.Headers["Content-Encoding"], "gzip", StringComparison.OrdinalIgnoreCase)) body = new GZipStream(body, CompressionMode.Decompress);
                    await body.CopyToAsync(buffer);
                    if (context.Request.Url!.AbsolutePath == "/v1/traces") Decode(buffer.ToArray());
                    context.Response.StatusCode = 200;
                    context.Response.ContentType = "application/x-protobuf";
                    context.Response.Close();
                }
                catch (Exception) { try { context.Response.Abort(); } catch (Exception) { } }
            });
        }
    }

    // ExportTraceServiceRequest{1: ResourceSpans*}; ResourceSpans{1: Resource{1: KeyValue*}, 2: ScopeSpans*};
    // ScopeSpans{1: InstrumentationScope{1: name}, 2: Span*}; Span{1: trace_id, 2: span_id, 4: parent_span_id, 5: name,
    // 6: kind, 9: KeyValue*}; KeyValue{1: key, 2: AnyValue{1: string, 2: bool, 3: int64, 4: double}}.
    private void Decode(byte[] request)
    {
        foreach (var (field, resourceSpans, _) in Fields(request))
        {
            if (field != 1) continue;
            string service = "";
            var scopes = new List<byte[]>();
            foreach (var (f, value, _) in Fields(resourceSpans))
            {
                if (f == 1) service = Attributes(Fields(value).Where(x => x.Field == 1).Select(x => x.Value)).GetValueOrDefault("service.name", "");
                else if (f == 2) scopes.Add(value);
            }
            foreach (var scopeSpans in scopes)
            {
                var parts = Fields(scopeSpans).ToList();
                string scope = parts.Where(p => p.Field == 1).Select(p => Text(Fields(p.Value).FirstOrDefault(x => x.Field == 1).Value)).FirstOrDefault() ?? "";
                if (!KeptScopes.Any(k => scope.StartsWith(k, StringComparison.Ordinal))) continue;
                foreach (var (_, span, _) in parts.Where(p => p.Field == 2))
                {
                    var s = Fields(span).ToList();
                    byte[] Get(int n) => s.FirstOrDefault(x => x.Field == n).Value ?? [];
                    spans.Enqueue(new Span(service, scope, Convert.ToHexStringLower(Get(1)), Convert.ToHexStringLower(Get(2)), Convert.ToHexStringLower(Get(4)),
                        Text(Get(5)), (int)(s.FirstOrDefault(x => x.Field == 6).Varint), Attributes(s.Where(x => x.Field == 9).Select(x => x.Value))));
                }
            }
        }
    }

    private static Dictionary<string, string> Attributes(IEnumerable<byte[]> keyValues)
    {
        var result = new Dictionary<string, string>();
        foreach (var kv in keyValues)
        {
            var f = Fields(kv).ToList();
            string key = Text(f.FirstOrDefault(x => x.Field == 1).Value);
            var any = Fields(f.FirstOrDefault(x => x.Field == 2).Value ?? []).FirstOrDefault();
            result[key] = any.Field switch { 1 => Text(any.Value), 2 or 3 => any.Varint.ToString(), _ => "" };
        }
        return result;
    }

    private static string Text(byte[]? bytes) => bytes is null ? "" : Encoding.UTF8.GetString(bytes);

    /// <summary>The fields of one protobuf message: (number, bytes for length-delimited, value for varints).</summary>
    private static IEnumerable<(int Field, byte[] Value, ulong Varint)> Fields(byte[] message)
    {
        int at = 0;
        while (at < message.Length)
        {
            ulong tag = Varint(message, ref at);
            int field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0: yield return (field, [], Varint(message, ref at)); break;
                case 1: yield return (field, message[at..(at + 8)], 0); at += 8; break;
                case 2:
                    int length = (int)Varint(message, ref at);
                    yield return (field, message[at..(at + length)], 0);
                    at += length;
                    break;
                case 5: yield return (field, message[at..(at + 4)], 0); at += 4; break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {tag & 7}");
            }
        }
    }

    private static ulong Varint(byte[] data, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
    }

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        await loop.ConfigureAwait(false);
    }
}
