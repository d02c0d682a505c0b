using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Reliability.Idempotency;
using Reliability.Silo.Hosting;

namespace Reliability.Silo.Http.Idempotency;

/// <summary>
/// Exactly-once POSTs: the request's <c>Idempotency-Key</c> (scoped to the caller's API key) is claimed
/// durably before the handler runs, and the handler's response is stored and replayed to every retry.
/// <list type="bullet">
/// <item>no or malformed key → 400; same key, different method, path or body → 422;</item>
/// <item>first request → the handler's own response (e.g. 201);</item>
/// <item>completed → the original body and headers with <c>Idempotent-Replayed: true</c> and the original status
/// in <c>Idempotent-Original-Status</c>; a 201 replays as 200 (nothing was created by the replay), any other
/// status as it was (a 202 stays 202);</item>
/// <item>still running → 409 with Retry-After, or with <c>Prefer: wait=N</c> the original's result if it
/// finishes within N seconds (duplicates wait for the one execution instead of running their own).</item>
/// </list>
/// A claim names this silo as its holder: when the membership declares the silo dead, a retry takes the
/// claim over at once instead of waiting out the lease.
/// What is stored: 2xx, 3xx and 5xx other than 503. Not stored (the key is released and a retry runs
/// again): 4xx (validation, nothing happened), 503 and unhandled exceptions. A released key can be rerun
/// safely because the handler passes its operation id (<see cref="IdempotencyRouting.IdempotentOperationId"/>) down to the effect, which applies an
/// operation once (see CartGrain): the claim stops concurrent duplicates, the operation id makes the
/// effect itself exactly-once when a first attempt's fate is unknown.
/// </summary>
public sealed partial class IdempotencyFilter(IGrainFactory grains, ILocalSiloDetails silo, IOptions<HttpApiOptions> options, ILogger<IdempotencyFilter> logger) : IEndpointFilter
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const string OriginalStatusHeader = "Idempotent-Original-Status";

    private static readonly TimeSpan MaxPreferWait = TimeSpan.FromSeconds(60);
    private static readonly string[] KeptHeaders = ["Location"];

    /// <summary>This silo, as the holder of the claims it runs: if it dies, they are taken over at once.</summary>
    private string? _holder;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var keys = http.Request.Headers[HeaderName];
        if (keys.Count > 1)
        {
            return Problems.BadRequest(new FieldError(HeaderName, "send the header once"));
        }

        var key = keys.ToString();
        if (IdempotencyKeys.Check(key) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        var fingerprint = await FingerprintAsync(http.Request);
        if (fingerprint is null)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "body-too-large", "The request body is too large.",
                $"Bodies of at most {options.Value.MaxRequestBodyBytes} bytes are accepted (Http:MaxRequestBodyBytes).");
        }

        var scope = IdempotencyKeys.ScopeOf(http.Request.Headers[options.Value.ApiKeyHeader].ToString());
        var grainKey = IdempotencyKeys.GrainKey(scope, key);
        var grain = grains.GetGrain<IIdempotencyKeyGrain>(grainKey);
        var deadline = DateTimeOffset.UtcNow + PreferredWait(http.Request);
        while (true)
        {
            var outcome = await grain.Begin(fingerprint, _holder ??= silo.SiloAddress.ToParsableString());
            switch (outcome.Kind)
            {
                case IdempotencyOutcomeKind.Started:
                    return await ExecuteAsync(context, next, grain, outcome, IdempotencyKeys.OperationId(grainKey, outcome.OperationId));
                case IdempotencyOutcomeKind.Completed:
                    return new ReplayResult(outcome.Response!);
                case IdempotencyOutcomeKind.Mismatch:
                    return Problems.Create(StatusCodes.Status422UnprocessableEntity, "idempotency-key-reused", "The key was used for another request.",
                        $"Idempotency-Key '{key}' was first used with a different method, path or body; use a new key for a new request.");
            }

            var remaining = deadline - DateTimeOffset.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(outcome.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return Problems.Create(StatusCodes.Status409Conflict, "request-in-progress", "The first request with this key is still running.",
                    $"Retry after the Retry-After delay, or send 'Prefer: wait=<seconds>' to wait for its result.");
            }

            await grain.WaitForChange(remaining);
        }
    }

    /// <summary>
    /// Runs the handler and produces its response away from the client's connection: a client that gives
    /// up mid-request (a timeout, a closed tab) must not turn the answer every retry replays into an empty
    /// body. The response is written into a detached context that is never aborted, stored if it is one to
    /// keep, and only then copied to the client, if it is still there.
    /// </summary>
    private async Task<object?> ExecuteAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, IIdempotencyKeyGrain grain, IdempotencyOutcome claim, string operationId)
    {
        var http = context.HttpContext;
        var lease = claim.LeaseId;
        http.Features.Set<IIdempotencyFeature>(new IdempotencyRouting.Feature(operationId));
        Captured response;
        try
        {
            using var running = new CancellationTokenSource();
            var renewing = RenewWhileRunningAsync(grain, claim, running.Token);
            try
            {
                var result = await next(context);
                response = await CaptureAsync(http, result as IResult ?? TypedResults.Ok(result));
            }
            finally
            {
                await running.CancelAsync();
                await renewing;
            }
        }
        catch
        {
            await ReleaseAsync(grain, lease);
            throw;
        }

        if (Stored(response.Status))
        {
            var headers = KeptHeaders.Where(response.Headers.ContainsKey).ToImmutableDictionary(h => h, h => response.Headers[h].ToString());
            try
            {
                await grain.Complete(lease, new StoredResponse(response.Status, response.ContentType, [.. response.Body], headers));
            }
            catch (Exception ex) when (ErrorHandling.IsUnavailable(ex))
            {
                // The effect happened; the claim stays open until its lease expires, and a retry then
                // re-runs the handler, whose effect is keyed by the operation id and applies nothing twice.
                LogCompleteFailed(ex.Message);
            }
        }
        else
        {
            await ReleaseAsync(grain, lease);
        }

        return new CapturedResult(response);
    }

    /// <summary>Executes a result into memory, with the request's services but not its abort token.</summary>
    private static async Task<Captured> CaptureAsync(HttpContext http, IResult result)
    {
        using var body = new MemoryStream();
        var detached = new DefaultHttpContext { RequestServices = http.RequestServices };
        detached.Request.Method = http.Request.Method;
        detached.Request.Scheme = http.Request.Scheme;
        detached.Request.Host = http.Request.Host;
        detached.Request.PathBase = http.Request.PathBase;
        detached.Request.Path = http.Request.Path;
        foreach (var (name, value) in http.Request.Headers)
        {
            detached.Request.Headers[name] = value;
        }

        detached.Response.Body = body;
        await result.ExecuteAsync(detached);
        await detached.Response.Body.FlushAsync();
        return new Captured(detached.Response.StatusCode, detached.Response.ContentType, new HeaderDictionary(detached.Response.Headers.ToDictionary()), body.ToArray());
    }

    /// <summary>
    /// Renews the claim's lease every third of it while the handler runs, so a long request is not taken
    /// over while it still works; stops when the handler is done or the lease is no longer this one's.
    /// </summary>
    private async Task RenewWhileRunningAsync(IIdempotencyKeyGrain grain, IdempotencyOutcome claim, CancellationToken done)
    {
        var every = claim.LeaseExpiresAt is { } expires ? (expires - DateTimeOffset.UtcNow) / 3 : TimeSpan.FromSeconds(10);
        every = every < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : every;
        try
        {
            while (true)
            {
                await Task.Delay(every, done);
                try
                {
                    if ((await grain.Renew(claim.LeaseId)).Kind != IdempotencyOutcomeKind.Accepted)
                    {
                        return;
                    }
                }
                catch (Exception ex) when (ErrorHandling.IsUnavailable(ex))
                {
                    LogRenewFailed(ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (done.IsCancellationRequested)
        {
            // The handler is done: the claim is completed or released next.
        }
    }

    private async Task ReleaseAsync(IIdempotencyKeyGrain grain, Guid lease)
    {
        try
        {
            await grain.Abandon(lease);
        }
        catch (Exception ex) when (ErrorHandling.IsUnavailable(ex))
        {
            LogAbandonFailed(ex.Message);
        }
    }

    private static bool Stored(int status) => status is < 400 or (>= 500 and not StatusCodes.Status503ServiceUnavailable);

    /// <summary>Method, path and body: a retry must repeat all three.</summary>
    public static string Fingerprint(string method, string path, byte[] body)
    {
        using var hash = StartFingerprint(method, path);
        hash.AppendData(body);
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>
    /// The <see cref="Fingerprint"/> of a request, hashing the body as it is read (it stays buffered for the
    /// handler); null when the body is over the limit.
    /// </summary>
    private async Task<string?> FingerprintAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var hash = StartFingerprint(request.Method, request.Path);
        var buffer = new byte[8192];
        long length = 0;
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
            {
                length += read;
                if (length > options.Value.MaxRequestBodyBytes)
                {
                    return null;
                }

                hash.AppendData(buffer, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        request.Body.Position = 0;
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static IncrementalHash StartFingerprint(string method, string path)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{method}\n{path}\n"));
        return hash;
    }

    /// <summary><c>Prefer: wait=N</c> (RFC 7240), capped at a minute.</summary>
    private static TimeSpan PreferredWait(HttpRequest request)
    {
        foreach (var preference in request.Headers["Prefer"].SelectMany(v => (v ?? "").Split(',')))
        {
            var parts = preference.Trim().Split('=', 2);
            if (parts.Length == 2 && parts[0].Equals("wait", StringComparison.OrdinalIgnoreCase)
                && double.TryParse(parts[1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds))
            {
                var wait = TimeSpan.FromSeconds(Math.Max(0, seconds));
                return wait < MaxPreferWait ? wait : MaxPreferWait;
            }
        }

        return TimeSpan.Zero;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idempotency key could not be completed; it stays claimed until its lease expires: {Reason}")]
    private partial void LogCompleteFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idempotency lease could not be renewed; trying again: {Reason}")]
    private partial void LogRenewFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idempotency key could not be released; it stays claimed until its lease expires: {Reason}")]
    private partial void LogAbandonFailed(string reason);

    private sealed record Captured(int Status, string? ContentType, IHeaderDictionary Headers, byte[] Body);

    /// <summary>The captured response, copied to the client; a client that has gone away is simply not answered.</summary>
    private sealed class CapturedResult(Captured response) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = response.Status;
            foreach (var (name, value) in response.Headers)
            {
                http.Response.Headers[name] = value;
            }

            try
            {
                await http.Response.Body.WriteAsync(response.Body, http.RequestAborted);
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                // The client left; what it would have read is stored for its retry.
            }
        }
    }

    /// <summary>
    /// The stored response, with <c>Idempotent-Replayed: true</c> and its original status in
    /// <c>Idempotent-Original-Status</c>. A 201 is replayed as 200, because the replay created nothing (the
    /// resource is where Location says); every other status is replayed as it was: a 202 still means the
    /// work was accepted and may not be finished, so the client follows Location.
    /// </summary>
    private sealed class ReplayResult(StoredResponse response) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = ReplayStatus(response.StatusCode);
            http.Response.Headers[ReplayedHeader] = "true";
            http.Response.Headers[OriginalStatusHeader] = response.StatusCode.ToString(CultureInfo.InvariantCulture);
            if (response.ContentType is not null)
            {
                http.Response.ContentType = response.ContentType;
            }

            foreach (var (name, value) in response.Headers)
            {
                http.Response.Headers[name] = value;
            }

            await http.Response.Body.WriteAsync(response.Body.AsMemory(), http.RequestAborted);
        }
    }

    /// <summary>The status a replay answers with: 200 for a stored 201, the stored status otherwise.</summary>
    public static int ReplayStatus(int stored) => stored == StatusCodes.Status201Created ? StatusCodes.Status200OK : stored;
}
