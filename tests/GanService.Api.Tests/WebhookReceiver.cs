using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace GanService.Api.Tests;

/// <summary>A webhook receiver on a loopback port: records every request and answers as the path's behaviour says.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Received(string Path, string? Id, string? Timestamp, string? Signature, string Body, DateTimeOffset At);

    private readonly HttpListener listener = new();
    private readonly Task loop;
    private readonly ConcurrentQueue<Received> received = new();
    private readonly ConcurrentDictionary<string, int> counts = new();

    /// <summary>For a path and the request's 1-based number on it: how long to stall, then the status to answer.</summary>
    public Func<string, int, (TimeSpan Delay, int Status)> Behaviour { get; set; } = (_, _) => (TimeSpan.Zero, 200);

    public string BaseUrl { get; }

    public WebhookReceiver()
    {
        int port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add(BaseUrl + "/");
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    public IReadOnlyList<Received> On(string path) => received.Where(r => r.Path == path).ToList();

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception) when (!listener.IsListening) { return; }
            catch (HttpListenerException) { return; }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            var request = context.Request;
            string path = request.Url!.AbsolutePath;
            using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
            string body = await reader.ReadToEndAsync();
            received.Enqueue(new Received(path, request.Headers["webhook-id"], request.Headers["webhook-timestamp"],
                request.Headers["webhook-signature"], body, DateTimeOffset.UtcNow));
            var (delay, status) = Behaviour(path, counts.AddOrUpdate(path, 1, (_, n) => n + 1));
            if (delay > TimeSpan.Zero) await Task.Delay(delay);
            context.Response.StatusCode = status;
            context.Response.Close();
        }
        catch (Exception) when (!listener.IsListening)
        {
        }
        catch (HttpListenerException)
        {
            // The sender gave up (its timeout) before we answered.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        try { await loop; } catch (Exception) { }
    }
}
