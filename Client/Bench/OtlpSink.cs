using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Reliability.Client.Bench;

/// <summary>
/// An OTLP/HTTP receiver on a free loopback port that accepts traces, metrics and logs and keeps only
/// their count and size: the far end of the exporter in <c>bench telemetry</c>, so that exporting costs
/// the silos what it costs against a real collector.
/// </summary>
public sealed class OtlpSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _requests;
    private long _bytes;

    private OtlpSink(WebApplication app, int port) => (_app, Endpoint) = (app, $"http://127.0.0.1:{port}");

    /// <summary>The base address to give as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with protocol http/protobuf).</summary>
    public string Endpoint { get; }

    public long Requests => Interlocked.Read(ref _requests);

    public long Bytes => Interlocked.Read(ref _bytes);

    public static async Task<OtlpSink> StartAsync(CancellationToken cancellationToken)
    {
        var port = Infrastructure.FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var sink = new OtlpSink(app, port);
        // An empty body is an empty Export*ServiceResponse: everything accepted.
        app.MapPost("/v1/{signal}", async (HttpRequest request) =>
        {
            var buffer = new byte[16 * 1024];
            long size = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer)) > 0)
            {
                size += read;
            }

            Interlocked.Increment(ref sink._requests);
            Interlocked.Add(ref sink._bytes, size);
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync(cancellationToken);
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
