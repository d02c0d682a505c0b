using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Reliability.Idempotency;
using Reliability.Silo.Hosting;

namespace Reliability.Silo.Http.Idempotency;

/// <summary>
/// The claims API: idempotency for a service that handles its own requests. It claims a key before it
/// acts, stores its response when done (or releases the key after a failure, or renews the lease of long
/// work), and a duplicate gets the same answers as the built-in endpoints. The lease id is the token that
/// proves a claim: once a claim was taken over (its lease expired), the old token is refused, so a zombie
/// holder cannot overwrite the new holder's result. Scopes are the caller's own: the same scope and key
/// under another API key are another claim.
/// </summary>
public static partial class ClaimEndpoints
{
    public const string Route = "/api/idempotency/claims";

    private static readonly TimeSpan MinLease = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxLease = TimeSpan.FromHours(1);
    private const int MaxFingerprintLength = 256;
    private const int MaxHeaders = 32;

    public sealed record ClaimBody(string? Scope, string? Key, string? Fingerprint, string? Lease);

    public sealed record CompleteBody(string? Token, ResponseBody? Response);

    public sealed record ResponseBody(int? StatusCode, string? ContentType, Dictionary<string, string>? Headers, string? Body);

    public sealed record RenewBody(string? Token, string? Lease);

    public static WebApplication MapIdempotencyClaims(this WebApplication app)
    {
        var claims = app.MapGroup(Route).WithTags("Idempotency claims");
        claims.MapPost("/", ClaimAsync);
        claims.MapGet("/{scope}/{key}", GetAsync);
        claims.MapPut("/{scope}/{key}", CompleteAsync);
        claims.MapDelete("/{scope}/{key}", ReleaseAsync);
        claims.MapPost("/{scope}/{key}/renew", RenewAsync);
        return app;
    }

    /// <summary>201 with a token: run the operation. 200 with the stored response, 409 while held, 422 for another fingerprint.</summary>
    private static async Task<IResult> ClaimAsync(HttpContext http, IGrainFactory grains, IOptions<HttpApiOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync<ClaimBody>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var leaseError = CheckLease(body!.Lease, out var lease);
        var invalid = CheckScope(body.Scope) ?? CheckKey(body.Key) ?? CheckFingerprint(body.Fingerprint) ?? leaseError;
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        var outcome = await Grain(http, grains, options, body.Scope!, body.Key!).Begin(body.Fingerprint!, lease: lease);
        return outcome.Kind switch
        {
            IdempotencyOutcomeKind.Started => Results.Created(Location(body.Scope!, body.Key!), new
            {
                status = "claimed",
                token = outcome.LeaseId.ToString("N"),
                operationId = outcome.OperationId,
                leaseExpiresAt = outcome.LeaseExpiresAt,
                tookOver = outcome.TookOverExpiredLease,
            }),
            IdempotencyOutcomeKind.Completed => Results.Ok(new { status = "completed", response = StoredView.From(outcome.Response!) }),
            IdempotencyOutcomeKind.Mismatch => Problems.Create(StatusCodes.Status422UnprocessableEntity, "idempotency-key-reused", "The key was used for another request.",
                $"Key '{body.Key}' in scope '{body.Scope}' was claimed with another fingerprint; use a new key for a new request."),
            _ => InProgress(http, outcome.RetryAfter),
        };
    }

    private static async Task<IResult> GetAsync(string scope, string key, HttpContext http, IGrainFactory grains, IOptions<HttpApiOptions> options)
    {
        if ((CheckScope(scope) ?? CheckKey(key)) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        return await Grain(http, grains, options, scope, key).Get() is { } record
            ? Results.Ok(new
            {
                status = record.Status.ToString(),
                operationId = record.ClaimId,
                leaseExpiresAt = record.Status == IdempotencyStatus.InProgress ? record.LeaseExpiresAt : (DateTimeOffset?)null,
                expiresAt = record.ExpiresAt,
                response = record.Response is { } stored ? StoredView.From(stored) : null,
            })
            : Problems.NotFound($"Key '{key}' in scope '{scope}' is free.");
    }

    /// <summary>Stores the response under the claim; 409 if the token no longer holds it.</summary>
    private static async Task<IResult> CompleteAsync(string scope, string key, HttpContext http, IGrainFactory grains, IOptions<HttpApiOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync<CompleteBody>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var tokenError = CheckToken(body!.Token, out var token);
        var responseError = CheckResponse(body.Response, out var response);
        var invalid = CheckScope(scope) ?? CheckKey(key) ?? tokenError ?? responseError;
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        var outcome = await Grain(http, grains, options, scope, key).Complete(token, response!);
        return outcome.Kind == IdempotencyOutcomeKind.Accepted ? Results.Ok(new { status = "completed" }) : StaleToken(scope, key);
    }

    /// <summary>Gives the key up after a failure that had no effect; 204, or 409 if the token no longer holds it.</summary>
    private static async Task<IResult> ReleaseAsync(string scope, string key, string? token, HttpContext http, IGrainFactory grains, IOptions<HttpApiOptions> options)
    {
        var tokenError = CheckToken(token, out var lease);
        if ((CheckScope(scope) ?? CheckKey(key) ?? tokenError) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        var outcome = await Grain(http, grains, options, scope, key).Abandon(lease);
        return outcome.Kind == IdempotencyOutcomeKind.Accepted ? Results.NoContent() : StaleToken(scope, key);
    }

    /// <summary>Extends the lease of long work; 409 if the token no longer holds the claim.</summary>
    private static async Task<IResult> RenewAsync(string scope, string key, HttpContext http, IGrainFactory grains, IOptions<HttpApiOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync<RenewBody>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var tokenError = CheckToken(body!.Token, out var lease);
        var leaseError = CheckLease(body.Lease, out var duration);
        var invalid = CheckScope(scope) ?? CheckKey(key) ?? tokenError ?? leaseError;
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        var outcome = await Grain(http, grains, options, scope, key).Renew(lease, duration);
        return outcome.Kind == IdempotencyOutcomeKind.Accepted ? Results.Ok(new { status = "claimed", leaseExpiresAt = outcome.LeaseExpiresAt }) : StaleToken(scope, key);
    }

    /// <summary>The caller's own scope (its API key, hashed) with the scope it names: callers never share claims.</summary>
    private static IIdempotencyKeyGrain Grain(HttpContext http, IGrainFactory grains, IOptions<HttpApiOptions> options, string scope, string key) =>
        grains.GetIdempotencyKey($"{IdempotencyKeys.ScopeOf(http.Request.Headers[options.Value.ApiKeyHeader].ToString())}/{scope}", key);

    private static string Location(string scope, string key) => $"{Route}/{Uri.EscapeDataString(scope)}/{Uri.EscapeDataString(key)}";

    private static IResult InProgress(HttpContext http, TimeSpan retryAfter)
    {
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Problems.Create(StatusCodes.Status409Conflict, "request-in-progress", "The key is claimed by a request still running.",
            "Retry after the Retry-After delay: its holder will store a response or release the key, or its lease will expire.");
    }

    private static IResult StaleToken(string scope, string key) =>
        Problems.Create(StatusCodes.Status409Conflict, "stale-token", "The token no longer holds the claim.",
            $"The claim of key '{key}' in scope '{scope}' expired and was taken over, completed or released: this holder's work must not be stored.");

    private static FieldError? CheckScope(string? scope) => scope is not null && ScopeName().IsMatch(scope)
        ? null
        : new FieldError("scope", "must be 1-64 letters, digits, '.', '_' or '-'");

    /// <summary>The rules of the Idempotency-Key header, and no '/': the key is a segment of the claim's URL.</summary>
    private static FieldError? CheckKey(string? key) => key switch
    {
        null or "" => new FieldError("key", "is required: the idempotency key of the request (1-255 printable ASCII characters)"),
        _ when key.Contains('/') => new FieldError("key", "must not contain '/': it is a segment of the claim's URL"),
        _ => IdempotencyKeys.Check(key) is { } invalid ? invalid with { Field = "key" } : null,
    };

    private static FieldError? CheckFingerprint(string? fingerprint) => fingerprint switch
    {
        null or "" => new FieldError("fingerprint", "is required: a hash of what makes two requests the same (method, path, body)"),
        { Length: > MaxFingerprintLength } => new FieldError("fingerprint", $"must be at most {MaxFingerprintLength} characters"),
        _ when fingerprint.Any(c => c is < ' ' or > '~') => new FieldError("fingerprint", "must be printable ASCII"),
        _ => null,
    };

    private static FieldError? CheckLease(string? text, out TimeSpan? lease)
    {
        lease = null;
        if (text is null)
        {
            return null;
        }

        if (!Durations.TryParse(text, out var parsed) || parsed < MinLease || parsed > MaxLease)
        {
            return new FieldError("lease", $"must be a duration from 1s to 1h, such as 30s or 5m (got '{text}')");
        }

        lease = parsed;
        return null;
    }

    private static FieldError? CheckToken(string? text, out Guid token) =>
        Guid.TryParseExact(text, "N", out token) ? null : new FieldError("token", "must be the token the claim answered with (32 hex digits)");

    private static FieldError? CheckResponse(ResponseBody? body, out StoredResponse? response)
    {
        response = null;
        if (body is null)
        {
            return new FieldError("response", "is required: the status, and optionally contentType, headers and body (base64), to replay");
        }

        if (body.StatusCode is not (>= 100 and <= 599))
        {
            return new FieldError("response.statusCode", "must be an HTTP status from 100 to 599");
        }

        var headers = body.Headers ?? [];
        if (headers.Count > MaxHeaders || headers.Any(h => !HeaderName().IsMatch(h.Key) || h.Value.Any(c => c is < ' ' or > '~')))
        {
            return new FieldError("response.headers", $"at most {MaxHeaders}, each a header name and a printable ASCII value");
        }

        byte[] bytes;
        try
        {
            bytes = body.Body is null ? [] : Convert.FromBase64String(body.Body);
        }
        catch (FormatException)
        {
            return new FieldError("response.body", "must be base64");
        }

        response = new StoredResponse(body.StatusCode.Value, body.ContentType, [.. bytes], headers.ToImmutableDictionary());
        return null;
    }

    private sealed record StoredView(int StatusCode, string? ContentType, IReadOnlyDictionary<string, string> Headers, string Body)
    {
        public static StoredView From(StoredResponse stored) => new(stored.StatusCode, stored.ContentType, stored.Headers, Convert.ToBase64String(stored.Body.AsSpan()));
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex ScopeName();

    [GeneratedRegex("^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")]
    private static partial Regex HeaderName();
}
