using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Reliability.RateLimiting;

namespace Reliability.Silo.Http.RateLimiting;

public static class RateLimitEndpoints
{
    public static WebApplication MapRateLimiting(this WebApplication app)
    {
        var api = app.MapGroup("/api/ratelimit").WithTags("Rate limiting");
        api.MapPost("/check", CheckAsync);
        api.MapGet("/stats", async (IGrainFactory grains) =>
            TypedResults.Ok(await grains.GetGrain<IRateLimitStatsGrain>(IRateLimitStatsGrain.DefaultKey).GetTotals()));

        var admin = app.MapGroup("/api/admin/ratelimit/policies").WithTags("Rate limiting admin").AddEndpointFilter<AdminOnlyFilter>();
        admin.MapGet("/", async (IGrainFactory grains) =>
        {
            var set = await Registry(grains).GetAll();
            return TypedResults.Ok(new { version = set.Version, policies = set.Policies.Values.OrderBy(p => p.Name).Select(PolicyView.From) });
        });
        admin.MapPut("/{name}", PutPolicyAsync);
        admin.MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, IGrainFactory grains) =>
        {
            var change = await Registry(grains).Remove(name);
            return change.Succeeded ? TypedResults.NoContent() : Problems.NotFound($"No policy named '{name}'.");
        });
        return app;
    }

    /// <summary>200 with the decision when allowed, 429 with Retry-After and a problem body when denied.</summary>
    private static async Task<IResult> CheckAsync(HttpContext http, IGrainFactory grains, RateLimitMetrics metrics)
    {
        var started = Stopwatch.GetTimestamp();
        var (body, problem) = await JsonBody.ReadAsync<CheckRequestBody>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var policies = body!.Policies ?? (body.Policy is null ? [] : [body.Policy]);
        var error = RateLimitRules.CheckSubject(body.Subject)
            ?? (policies.Length == 0 ? new FieldError("policies", "name 1 or more policies (\"policy\": \"name\" or \"policies\": [\"a\", \"b\"])") : null)
            ?? RateLimitRules.CheckPolicies(policies)
            ?? (body.Cost < 0 ? new FieldError("cost", $"must be 0 or more (got {body.Cost})") : null);
        if (error is not null)
        {
            return Problems.BadRequest(error);
        }

        var decision = await grains.GetRateLimiter(body.Subject!).Check(new RateLimitRequest(policies, body.Cost));
        metrics.Checked("http", Stopwatch.GetElapsedTime(started));
        return Respond(http, body.Subject!, decision);
    }

    internal static IResult Respond(HttpContext http, string subject, RateLimitDecision decision)
    {
        switch (decision.Problem)
        {
            case { Kind: RateLimitProblemKind.UnknownPolicy } unknown:
                return Problems.NotFound(unknown.Error.Message);
            case { } invalid:
                return Problems.BadRequest(invalid.Error);
        }

        RateLimitHeaders.Write(http.Response, decision);
        if (decision.Allowed)
        {
            return TypedResults.Ok(DecisionView.From(subject, decision));
        }

        var retry = PolicyDecisionView.Ms(decision.RetryAfter);
        return Problems.Create(StatusCodes.Status429TooManyRequests, "rate-limited", "Too many requests.",
            $"Policy '{decision.DecidedBy}' allows {decision.Limit} per {Durations.Format(decision.Decider!.Window)}; retry after {retry} ms.",
            new Dictionary<string, object?> { ["subject"] = subject, ["policy"] = decision.DecidedBy, ["retryAfterMs"] = retry, ["decision"] = DecisionView.From(subject, decision) });
    }

    private static async Task<IResult> PutPolicyAsync(string name, HttpContext http, IGrainFactory grains)
    {
        var (body, problem) = await JsonBody.ReadAsync<PolicyBody>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new List<FieldError>();
        if (!RateLimitAlgorithms.TryParse(body!.Algorithm, out var algorithm))
        {
            errors.Add(new FieldError("algorithm", $"must be one of {string.Join(", ", RateLimitAlgorithms.Names)}"));
        }

        if (body.Limit is null)
        {
            errors.Add(new FieldError("limit", "is required"));
        }

        if (!Durations.TryParse(body.Period, out var period))
        {
            errors.Add(new FieldError("period", $"must be a duration such as 500ms, 1s, 5m, 1h or 1d (got '{body.Period}')"));
        }

        if (errors.Count > 0)
        {
            return Problems.BadRequest(errors);
        }

        var policy = new RateLimitPolicy(name, algorithm, body.Limit!.Value, period, body.Rate ?? 0, body.DefaultCost ?? 1, body.Shadow ?? false);
        var change = await Registry(grains).Upsert(policy);
        return change.Succeeded
            ? TypedResults.Ok(new { version = change.Version, policy = PolicyView.From(policy) })
            : Problems.BadRequest(change.Errors);
    }

    private static IRateLimitPolicyRegistryGrain Registry(IGrainFactory grains) =>
        grains.GetGrain<IRateLimitPolicyRegistryGrain>(IRateLimitPolicyRegistryGrain.DefaultKey);
}
