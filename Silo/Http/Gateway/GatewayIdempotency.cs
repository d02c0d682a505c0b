using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Reliability.Silo.Http.Idempotency;

namespace Reliability.Silo.Http.Gateway;

/// <summary>
/// The Idempotency-Key contract in front of an upstream service, in YARP's proxy pipeline. A keyed request
/// (by default POST and PATCH) is claimed durably, then forwarded with its own <c>Idempotency-Key</c> header,
/// so an upstream that honours the header too stays exactly-once when a retry is forwarded again after the
/// forwarding silo died. The upstream's answer is read into memory (up to
/// <see cref="GatewayOptions.MaxStoredBodyBytes"/>, beyond that streamed through and kept without its body),
/// stored and answered. The forward is detached from the client's connection: a client that gives up does not
/// cancel the upstream call whose answer its retry will replay.
/// Stored: 1xx–3xx, and 4xx where the route says <see cref="GatewayRoute.StoreClientErrors"/>. Never stored:
/// 5xx (the upstream's own, or 502/504 for an upstream that could not be reached or timed out), so the key is
/// free for a retry.
/// </summary>
public sealed class GatewayIdempotency(RequestDelegate next, IdempotencyGuard guard, IOptions<GatewayOptions> options)
{
    private readonly Dictionary<string, IdempotencyContract> _contracts = options.Value.Routes.ToDictionary(
        r => r.Key,
        r => new IdempotencyContract(
            Target: $"gateway/{r.Key}:",
            ScopeHeader: r.Value.ScopeHeader,
            Stores: status => status < 400 || (status < 500 && r.Value.StoreClientErrors),
            KeptHeaders: options.Value.KeptHeaders,
            MaxStoredBodyBytes: options.Value.MaxStoredBodyBytes),
        StringComparer.OrdinalIgnoreCase);

    public async Task InvokeAsync(HttpContext http)
    {
        if (UnforwardableHeader(http.Request) is { } header)
        {
            await Problems.BadRequest(new FieldError(header, "holds characters outside printable ASCII, which cannot be forwarded upstream")).ExecuteAsync(http);
            return;
        }

        var name = http.GetReverseProxyFeature().Route.Config.RouteId;
        var route = options.Value.Routes[name];
        if (!route.Idempotency || !route.IsKeyed(http.Request.Method)
            || (route.MissingKey == MissingKeyMode.PassThrough && !http.Request.Headers.ContainsKey(IdempotencyGuard.HeaderName)))
        {
            await next(http);
            return;
        }

        var answer = await guard.RunAsync(http, _contracts[name], _ => ForwardAsync(http));
        await answer.ExecuteAsync(http);
    }

    /// <summary>
    /// The first header whose value the upstream request could not carry (non-ASCII or control characters):
    /// that is the client's mistake, a 400, not a 502 from a forward that failed to be built.
    /// </summary>
    private static string? UnforwardableHeader(HttpRequest request)
    {
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                if (value is not null && value.Any(c => c is (< ' ' and not '\t') or > '~'))
                {
                    return name;
                }
            }
        }

        return null;
    }

    /// <summary>Forwards through the rest of the pipeline with the response body captured and the client's abort ignored.</summary>
    private async Task<CapturedResponse> ForwardAsync(HttpContext http)
    {
        var original = http.Features.Get<IHttpResponseBodyFeature>()!;
        var aborted = http.RequestAborted;
        var capture = new CaptureStream(original, options.Value.MaxStoredBodyBytes);
        http.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(capture));
        http.RequestAborted = CancellationToken.None;
        try
        {
            await next(http);
            await capture.FlushAsync();
        }
        finally
        {
            http.Features.Set(original);
            http.RequestAborted = aborted;
        }

        var headers = new HeaderDictionary(http.Response.Headers.ToDictionary());
        return new CapturedResponse(http.Response.StatusCode, http.Response.ContentType, headers, capture.Captured, BodyComplete: !capture.Overflowed, Sent: capture.Overflowed);
    }

    /// <summary>
    /// Keeps what is written, up to a limit; past it, sends what it kept and everything after straight to the
    /// client (whose response then starts with the upstream's status and headers), ignoring a client gone away.
    /// </summary>
    private sealed class CaptureStream(IHttpResponseBodyFeature client, long limit) : Stream
    {
        private readonly MemoryStream _kept = new();

        public bool Overflowed { get; private set; }

        public byte[] Captured => Overflowed ? [] : _kept.ToArray();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!Overflowed && _kept.Length + buffer.Length <= limit)
            {
                _kept.Write(buffer.Span);
                return;
            }

            if (!Overflowed)
            {
                Overflowed = true;
                await ToClientAsync(_kept.GetBuffer().AsMemory(0, (int)_kept.Length));
                _kept.SetLength(0);
            }

            await ToClientAsync(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (Overflowed)
            {
                try
                {
                    await client.Stream.FlushAsync(CancellationToken.None);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
                {
                    // The client left: the upstream call still finishes and is stored.
                }
            }
        }

        public override void Flush() => FlushAsync().GetAwaiter().GetResult();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private async ValueTask ToClientAsync(ReadOnlyMemory<byte> bytes)
        {
            try
            {
                await client.Stream.WriteAsync(bytes, CancellationToken.None);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The client left: the upstream call still finishes and is stored.
            }
        }
    }
}
