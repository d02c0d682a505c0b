using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Reliability.Idempotency;
using Reliability.Infrastructure;
using Reliability.Silo.Hosting;

namespace Reliability.Silo.Http.Idempotency;

/// <summary>
/// The HTTP contract of an <c>Idempotency-Key</c>, in one place for the built-in endpoints
/// (<see cref="IdempotencyFilter"/>) and the gateway (<see cref="Gateway.GatewayIdempotency"/>). The key,
/// scoped to the caller, is claimed durably before the request runs, and the answer is stored and replayed.
/// <list type="bullet">
/// <item>no or malformed key → 400; same key, different method, target or body → 422;</item>
/// <item>first request → its own response (e.g. 201);</item>
/// <item>completed → the original body and kept headers with <c>Idempotent-Replayed: true</c> and the original
/// status in <c>Idempotent-Original-Status</c>; a 201 replays as 200 (nothing was created by the replay), any
/// other status as it was (a 202 stays 202);</item>
/// <item>still running → 409 with Retry-After, or with <c>Prefer: wait=N</c> the original's result if it
/// finishes within N seconds (duplicates wait for the one execution instead of running their own).</item>
/// </list>
/// A claim names this silo as its holder: when the membership declares the silo dead, a retry takes the
/// claim over at once instead of waiting out the lease. While the request runs its lease is renewed, so long
/// work is not taken over. What is stored is the contract's choice (<see cref="IdempotencyContract.Stores"/>);
/// an answer not stored, or an exception, releases the key, and a retry runs again under the same operation id.
/// </summary>
public sealed partial class IdempotencyGuard(IGrainFactory grains, ILocalSiloDetails silo, IOptions<HttpApiOptions> options, ILogger<IdempotencyGuard> logger)
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const string OriginalStatusHeader = "Idempotent-Original-Status";

    /// <summary>On a replay whose original body was larger than the gateway keeps: status and headers are the original's, the body is empty.</summary>
    public const string BodyOmittedHeader = "Idempotent-Body-Omitted";

    private static readonly TimeSpan MaxPreferWait = TimeSpan.FromSeconds(60);

    /// <summary>This silo, as the holder of the claims it runs: if it dies, they are taken over at once.</summary>
    private readonly string _holder = silo.SiloAddress.ToParsableString();

    /// <summary>
    /// Claims the request's key and runs <paramref name="execute"/> (given the operation id) if this request
    /// is the one to run; otherwise answers as the key's state says. The result is what to answer.
    /// </summary>
    public async Task<IResult> RunAsync(HttpContext http, IdempotencyContract contract, Func<string, Task<CapturedResponse>> execute)
    {
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

        var fingerprint = await FingerprintAsync(http.Request, contract.Target);
        if (fingerprint is null)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "body-too-large", "The request body is too large.",
                $"Bodies of at most {options.Value.MaxRequestBodyBytes} bytes are accepted (Http:MaxRequestBodyBytes).");
        }

        var scope = IdempotencyKeys.ScopeOf(http.Request.Headers[contract.ScopeHeader ?? options.Value.ApiKeyHeader].ToString());
        var grainKey = IdempotencyKeys.GrainKey(scope, key);
        var grain = grains.GetGrain<IIdempotencyKeyGrain>(grainKey);
        var deadline = DateTimeOffset.UtcNow + PreferredWait(http.Request);
        while (true)
        {
            IdempotencyOutcome outcome;
            using (var claim = ToolkitTelemetry.IdempotencySource.StartActivity("idempotency claim"))
            {
                outcome = await grain.Begin(fingerprint, _holder);
                claim?.SetTag("idempotency.outcome", outcome.Kind.ToString());
            }

            switch (outcome.Kind)
            {
                case IdempotencyOutcomeKind.Started:
                    return await ExecuteAsync(grain, outcome, IdempotencyKeys.OperationId(grainKey, outcome.OperationId), contract, execute);
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

    private async Task<IResult> ExecuteAsync(IIdempotencyKeyGrain grain, IdempotencyOutcome claim, string operationId, IdempotencyContract contract, Func<string, Task<CapturedResponse>> execute)
    {
        CapturedResponse response;
        try
        {
            using var running = new CancellationTokenSource();
            var renewing = RenewWhileRunningAsync(grain, claim, running.Token);
            try
            {
                response = await execute(operationId);
            }
            finally
            {
                await running.CancelAsync();
                await renewing;
            }
        }
        catch
        {
            await ReleaseAsync(grain, claim.LeaseId);
            throw;
        }

        if (contract.Stores(response.Status))
        {
            try
            {
                await grain.Complete(claim.LeaseId, ToStored(response, contract));
            }
            catch (Exception ex) when (ErrorHandling.IsUnavailable(ex))
            {
                // The effect happened; the claim stays open until its lease expires, and a retry then runs
                // again under the same operation id, which the effect dedupes on.
                LogCompleteFailed(ex.Message);
            }
        }
        else
        {
            await ReleaseAsync(grain, claim.LeaseId);
        }

        return new CapturedResult(response);
    }

    private static StoredResponse ToStored(CapturedResponse response, IdempotencyContract contract)
    {
        var headers = response.Headers
            .Where(h => contract.KeptHeaders.Contains(h.Key, StringComparer.OrdinalIgnoreCase))
            .ToImmutableDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        if (!response.BodyComplete || response.Body.Length > contract.MaxStoredBodyBytes)
        {
            return new StoredResponse(response.Status, response.ContentType, [], headers.SetItem(BodyOmittedHeader, "true"));
        }

        return new StoredResponse(response.Status, response.ContentType, [.. response.Body], headers);
    }

    /// <summary>
    /// Renews the claim's lease every third of it while the request runs, so a long request is not taken
    /// over while it still works; stops when it is done or the lease is no longer this one's.
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
            // The request is done: the claim is completed or released next.
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

    /// <summary>
    /// Method, target and body: a retry must repeat all three. The target is the path and query, after the
    /// contract's own prefix (a gateway route); a request without a query hashes as it did before queries counted.
    /// </summary>
    public static string Fingerprint(string method, string target, byte[] body)
    {
        using var hash = StartFingerprint(method, target);
        hash.AppendData(body);
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>
    /// The <see cref="Fingerprint"/> of a request, hashing the body as it is read (it stays buffered for the
    /// handler or the upstream); null when the body is over the limit.
    /// </summary>
    private async Task<string?> FingerprintAsync(HttpRequest request, string prefix)
    {
        request.EnableBuffering();
        using var hash = StartFingerprint(request.Method, prefix + request.Path + request.QueryString);
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

    private static IncrementalHash StartFingerprint(string method, string target)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{method}\n{target}\n"));
        return hash;
    }

    /// <summary><c>Prefer: wait=N</c> (RFC 7240), capped at a minute.</summary>
    public static TimeSpan PreferredWait(HttpRequest request)
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

    /// <summary>The status a replay answers with: 200 for a stored 201, the stored status otherwise.</summary>
    public static int ReplayStatus(int stored) => stored == StatusCodes.Status201Created ? StatusCodes.Status200OK : stored;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idempotency key could not be completed; it stays claimed until its lease expires: {Reason}")]
    private partial void LogCompleteFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idempotency lease could not be renewed; trying again: {Reason}")]
    private partial void LogRenewFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idempotency key could not be released; it stays claimed until its lease expires: {Reason}")]
    private partial void LogAbandonFailed(string reason);

    /// <summary>The first answer, copied to the client unless it was already streamed to it; a client that has gone away is simply not answered.</summary>
    private sealed class CapturedResult(CapturedResponse response) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            if (response.Sent)
            {
                return;
            }

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
}

/// <summary>
/// How one kind of route applies the contract: the prefix its fingerprints carry (a gateway route's name),
/// the header that scopes keys (null: the API key header), which answers are stored, which headers are kept
/// for replays, and the largest body kept.
/// </summary>
public sealed record IdempotencyContract(string Target, string? ScopeHeader, Func<int, bool> Stores, IReadOnlyCollection<string> KeptHeaders, long MaxStoredBodyBytes);

/// <summary>
/// A response produced away from the client: status, headers and body. <see cref="BodyComplete"/> is false
/// when the body grew past what is kept and was streamed to the client instead (<see cref="Sent"/>).
/// </summary>
public sealed record CapturedResponse(int Status, string? ContentType, IHeaderDictionary Headers, byte[] Body, bool BodyComplete = true, bool Sent = false);
