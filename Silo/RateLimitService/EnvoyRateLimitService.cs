using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Reliability.Envoy.Core;
using Reliability.Envoy.RateLimitService;
using Reliability.RateLimiting;
using RateLimitRequest = Reliability.Envoy.RateLimitService.RateLimitRequest;
using Reliability.Silo.Http.RateLimiting;

namespace Reliability.Silo.RateLimitService;

/// <summary>
/// <c>envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit</c> on the cluster's per-subject grains.
/// Each descriptor is matched to its most specific rule (<see cref="RlsConfigParser.Match"/>); its bucket
/// belongs to the subject named by the domain and the matched entries. All descriptors are decided
/// together, all or nothing: when one is over its limit, the others give back what they took, so a denied
/// request consumes nothing anywhere (Envoy's reference service counts denied hits). Shadow rules decide
/// and count but answer OK. A descriptor no rule matches is OK and unlimited. When the cluster cannot
/// decide within <see cref="RateLimitServiceOptions.Timeout"/>, <see cref="RateLimitServiceOptions.FailureMode"/>
/// answers.
/// </summary>
public sealed partial class EnvoyRateLimitService(
    RlsConfigStore config,
    IGrainFactory grains,
    IOptions<RateLimitServiceOptions> options,
    RateLimitMetrics metrics,
    ILogger<EnvoyRateLimitService> logger) : Envoy.RateLimitService.RateLimitService.RateLimitServiceBase
{
    public const int MaxDescriptors = 16;

    /// <summary>The dynamic_metadata field of an answer given by the failure mode (its value: allow or deny).</summary>
    public const string UndecidedField = "undecided_failure_mode";
    public const int MaxEntries = 8;
    public const int MaxKeyLength = 64;
    public const int MaxValueLength = 1024;

    private const long FailureLogPeriodMs = 5_000;

    private long _failures;
    private long _failuresLogged;
    private long _lastFailureLog = long.MinValue / 2;

    /// <summary>Checks answered by the failure mode since the silo started.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public override async Task<RateLimitResponse> ShouldRateLimit(RateLimitRequest request, ServerCallContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var response = await AnswerAsync(request, context);
        metrics.Checked("rls", Stopwatch.GetElapsedTime(started));
        return response;
    }

    private async Task<RateLimitResponse> AnswerAsync(RateLimitRequest request, ServerCallContext context)
    {
        if (Validate(request) is { } invalid)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, invalid));
        }

        var checks = new Check?[request.Descriptors.Count];
        if (config.Current.Domains.TryGetValue(request.Domain, out var domain))
        {
            for (var i = 0; i < checks.Length; i++)
            {
                checks[i] = Prepare(domain, request.Descriptors[i], request.HitsAddend);
            }
        }

        var deciding = checks.Select(DecideAsync).ToArray();
        var all = Task.WhenAll(deciding);
        if (!await DecidedInTimeAsync(all, context.CancellationToken))
        {
            CountUndecided(request.Domain);
            if (options.Value.FailureMode == FailureMode.Deny)
            {
                // Denied after all: what the decisions took is given back (the late ones when they arrive).
                _ = RefundWhenSettledAsync(deciding, checks);
            }

            return FailureAnswer(request.Descriptors.Count);
        }

        var decisions = await all;
        var denied = checks.Select((c, i) => c is { Rule.DeniesAll: true } || decisions[i] is { Allowed: false }).ToArray();
        var overLimit = denied.Any(d => d);
        if (overLimit)
        {
            await RefundAllowedAsync(decisions, checks);
        }

        return Answer(checks, decisions, denied, overLimit);
    }

    /// <summary>Counts a check answered by the failure mode, and logs the count once per few seconds at most: under overload this happens thousands of times a second.</summary>
    private void CountUndecided(string domain)
    {
        var failures = Interlocked.Increment(ref _failures);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastFailureLog);
        if (now - last >= FailureLogPeriodMs && Interlocked.CompareExchange(ref _lastFailureLog, now, last) == last)
        {
            LogUndecided(failures - Interlocked.Exchange(ref _failuresLogged, failures), domain, options.Value.Timeout.TotalMilliseconds, options.Value.FailureMode);
        }
    }

    /// <summary>
    /// False when the decisions did not arrive within the budget, or a subject's silo just died (its grains
    /// answer again elsewhere in a moment): not decided. Nothing to ask a bucket is decided at once, with no timer.
    /// </summary>
    private async Task<bool> DecidedInTimeAsync(Task all, CancellationToken cancellationToken)
    {
        if (!all.IsCompleted && await Task.WhenAny(all, Task.Delay(options.Value.Timeout, cancellationToken)) != all)
        {
            return false;
        }

        return !(all.IsFaulted && all.Exception!.InnerExceptions.All(Http.ErrorHandling.IsUnavailable));
    }

    private async Task<RateLimitDecision?> DecideAsync(Check? check) =>
        check is { Policy: { } policy } ? await grains.GetRateLimiter(check.Subject).CheckWith([policy], check.Cost) : null;

    /// <summary>INVALID_ARGUMENT's message for a malformed request, or null.</summary>
    private static string? Validate(RateLimitRequest request)
    {
        if (string.IsNullOrEmpty(request.Domain) || request.Domain.Length > 128)
        {
            return "domain is required (1 to 128 characters)";
        }

        if (request.Descriptors.Count is 0 or > MaxDescriptors)
        {
            return $"give 1 to {MaxDescriptors} descriptors (got {request.Descriptors.Count})";
        }

        for (var i = 0; i < request.Descriptors.Count; i++)
        {
            var entries = request.Descriptors[i].Entries;
            if (entries.Count is 0 or > MaxEntries)
            {
                return $"descriptors[{i}]: give 1 to {MaxEntries} entries (got {entries.Count})";
            }

            for (var j = 0; j < entries.Count; j++)
            {
                if (entries[j].Key.Length is 0 or > MaxKeyLength)
                {
                    return $"descriptors[{i}].entries[{j}].key must be 1 to {MaxKeyLength} characters";
                }

                if (entries[j].Value.Length > MaxValueLength)
                {
                    return $"descriptors[{i}].entries[{j}].value must be at most {MaxValueLength} characters";
                }
            }

            if (request.Descriptors[i].Limit is { } limit && (limit.RequestsPerUnit == 0 || UnitSpan(limit.Unit) is null))
            {
                return $"descriptors[{i}].limit needs requests_per_unit above 0 and a unit";
            }
        }

        return null;
    }

    /// <summary>
    /// The rule, subject, policy and cost of one descriptor; null when no rule matches. The policy is null
    /// for an unlimited rule and one that denies all (nothing to ask a bucket).
    /// </summary>
    private static Check? Prepare(RlsDomain domain, Envoy.RateLimit.RateLimitDescriptor descriptor, uint requestHits)
    {
        var match = RlsConfigParser.Match(domain, [.. descriptor.Entries.Select(e => (e.Key, e.Value))]);
        if (match is null)
        {
            return null;
        }

        // hits_addend: the descriptor's own, else the request's; 0 means 1, as in Envoy.
        var hits = descriptor.HitsAddend ?? requestHits;
        var cost = (long)Math.Max(1, Math.Min(hits, (ulong)RateLimitRules.MaxLimit));
        var policy = match.Rule.Unlimited || match.Rule.DeniesAll ? null : match.Rule.Policy;
        if (descriptor.Limit is { } limit && policy is not null)
        {
            // The caller's own limit for this descriptor replaces the configured one (a bucket of its own).
            var window = UnitSpan(limit.Unit)!.Value;
            policy = new RateLimitPolicy($"{policy.Name}-o{limit.RequestsPerUnit}-{(int)limit.Unit}", RateLimitAlgorithm.FixedWindow, limit.RequestsPerUnit, window, Shadow: policy.Shadow);
        }

        return new Check(match.Rule, match.Subject, policy, cost);
    }

    /// <summary>Gives back what each decision took, as each arrives; one that failed took nothing.</summary>
    private async Task RefundWhenSettledAsync(Task<RateLimitDecision?>[] deciding, Check?[] checks)
    {
        var decisions = new RateLimitDecision?[deciding.Length];
        for (var i = 0; i < deciding.Length; i++)
        {
            try
            {
                decisions[i] = await deciding[i];
            }
            catch (Exception ex) when (Http.ErrorHandling.IsUnavailable(ex))
            {
                decisions[i] = null;
            }
        }

        await RefundAllowedAsync(decisions, checks);
    }

    private async Task RefundAllowedAsync(RateLimitDecision?[] decisions, Check?[] checks)
    {
        var refunds = decisions.Select((d, i) => d is { Allowed: true, Problem: null } && checks[i] is { } c
            ? grains.GetRateLimiter(c.Subject).Refund(d).AsTask()
            : Task.CompletedTask);
        try
        {
            await Task.WhenAll(refunds);
        }
        catch (Exception ex) when (Http.ErrorHandling.IsUnavailable(ex))
        {
            LogRefundFailed(ex.Message);
        }
    }

    private RateLimitResponse FailureAnswer(int descriptors)
    {
        var code = options.Value.FailureMode == FailureMode.Allow ? RateLimitResponse.Types.Code.Ok : RateLimitResponse.Types.Code.OverLimit;
        // Envoy passes dynamic_metadata on to later filters and its logs: a failure-mode answer says what it is.
        var response = new RateLimitResponse
        {
            OverallCode = code,
            DynamicMetadata = new Struct { Fields = { [UndecidedField] = Value.ForString(options.Value.FailureMode.ToString().ToLowerInvariant()) } },
        };
        response.Statuses.AddRange(Enumerable.Range(0, descriptors).Select(_ => new RateLimitResponse.Types.DescriptorStatus { Code = code }));
        return response;
    }

    private static RateLimitResponse Answer(Check?[] checks, RateLimitDecision?[] decisions, bool[] denied, bool overLimit)
    {
        var response = new RateLimitResponse { OverallCode = overLimit ? RateLimitResponse.Types.Code.OverLimit : RateLimitResponse.Types.Code.Ok };
        var reported = new List<PolicyDecision>();
        var retryAfter = TimeSpan.Zero;
        for (var i = 0; i < checks.Length; i++)
        {
            var status = new RateLimitResponse.Types.DescriptorStatus
            {
                Code = denied[i] ? RateLimitResponse.Types.Code.OverLimit : RateLimitResponse.Types.Code.Ok,
            };
            if (checks[i] is { Rule.Policy: { } configured } check && !check.Rule.Unlimited)
            {
                var policy = check.Policy ?? configured;
                status.CurrentLimit = new RateLimitResponse.Types.RateLimit
                {
                    Name = check.Rule.Path,
                    RequestsPerUnit = check.Rule.DeniesAll ? 0 : (uint)Math.Min(policy.Limit, uint.MaxValue),
                    Unit = NearestUnit(policy.Period),
                };
                if (decisions[i]?.Decider is { } decided)
                {
                    // A request denied elsewhere gave back what this descriptor took.
                    var remaining = overLimit && !denied[i] ? Math.Min(decided.Limit, decided.Remaining + check.Cost) : decided.Remaining;
                    status.LimitRemaining = (uint)Math.Clamp(remaining, 0, uint.MaxValue);
                    status.DurationUntilReset = Duration.FromTimeSpan(decided.ResetAfter);
                    reported.Add(decided with { Remaining = remaining });
                    retryAfter = denied[i] && decided.RetryAfter > retryAfter ? decided.RetryAfter : retryAfter;
                }
                else if (check.Rule.DeniesAll)
                {
                    status.DurationUntilReset = Duration.FromTimeSpan(policy.Period);
                }
            }

            response.Statuses.Add(status);
        }

        foreach (var (name, value) in RateLimitHeaders.Fields(reported, overLimit ? retryAfter : null))
        {
            response.ResponseHeadersToAdd.Add(new HeaderValue { Key = name, Value = value });
        }

        return response;
    }

    private static TimeSpan? UnitSpan(Envoy.Type.RateLimitUnit unit) => RlsConfigParser.TryUnit(unit.ToString(), out var window) ? window : null;

    /// <summary>The unit nearest a window (the exact window is in the RateLimit-Policy header).</summary>
    private static RateLimitResponse.Types.RateLimit.Types.Unit NearestUnit(TimeSpan window) => window.TotalSeconds switch
    {
        < 30 => RateLimitResponse.Types.RateLimit.Types.Unit.Second,
        < 30 * 60 => RateLimitResponse.Types.RateLimit.Types.Unit.Minute,
        < 12 * 3600 => RateLimitResponse.Types.RateLimit.Types.Unit.Hour,
        < 15 * 86400 => RateLimitResponse.Types.RateLimit.Types.Unit.Day,
        < 180 * 86400 => RateLimitResponse.Types.RateLimit.Types.Unit.Month,
        _ => RateLimitResponse.Types.RateLimit.Types.Unit.Year,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} rate-limit checks (the last for domain {Domain}) not decided within {Milliseconds} ms; answered by the failure mode {Mode}")]
    private partial void LogUndecided(long count, string domain, double milliseconds, FailureMode mode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A denied rate-limit check could not give back what its other descriptors took: {Reason}")]
    private partial void LogRefundFailed(string reason);

    private sealed record Check(RlsRule Rule, string Subject, RateLimitPolicy? Policy, long Cost);
}
