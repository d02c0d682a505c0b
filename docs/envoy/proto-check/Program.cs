// Checks, with a client generated from Envoy's own v3 protos (envoyproxy/envoy api/, unchanged), that
// the silos of ./run.sh answer as Envoy expects, with the rules of docs/envoy/ratelimit/demo.yaml.
// Usage: dotnet run --project docs/envoy/proto-check -p:EnvoyApi=<folder> -- [rls url] [another silo's rls url]
using Envoy.Extensions.Common.Ratelimit.V3;
using Envoy.Service.Ratelimit.V3;
using Grpc.Core;
using Grpc.Net.Client;

var url = args.Length > 0 ? args[0] : "http://127.0.0.1:8181";
var other = args.Length > 1 ? args[1] : url;
using var channel = GrpcChannel.ForAddress(url);
using var channel2 = GrpcChannel.ForAddress(other);
var client = new RateLimitService.RateLimitServiceClient(channel);
var client2 = new RateLimitService.RateLimitServiceClient(channel2);
var failures = 0;
void Check(bool ok, string what) { Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}"); if (!ok) failures++; }
RateLimitDescriptor D(params (string k, string v)[] entries) { var d = new RateLimitDescriptor(); foreach (var (k, v) in entries) d.Entries.Add(new RateLimitDescriptor.Types.Entry { Key = k, Value = v }); return d; }
RateLimitRequest R(string domain, params RateLimitDescriptor[] ds) { var r = new RateLimitRequest { Domain = domain }; r.Descriptors.AddRange(ds); return r; }
string Show(RateLimitResponse r) => $"{r.OverallCode} [{string.Join("; ", r.Statuses.Select(s => $"{s.Code} limit={s.CurrentLimit?.RequestsPerUnit}/{s.CurrentLimit?.Unit} left={s.LimitRemaining} reset={s.DurationUntilReset}"))}] headers={{{string.Join(", ", r.ResponseHeadersToAdd.Select(h => $"{h.Key}: {h.Value}"))}}}";

var ip = $"10.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}";
// 1. remote_address: 5 a minute, over both silos.
for (var i = 1; i <= 6; i++)
{
    var answer = await (i % 2 == 0 ? client2 : client).ShouldRateLimitAsync(R("demo", D(("remote_address", ip))));
    Console.WriteLine($"  call {i}: {Show(answer)}");
    if (i <= 5)
    {
        Check(answer.OverallCode == RateLimitResponse.Types.Code.Ok && answer.Statuses[0].LimitRemaining == 5 - i
              && answer.Statuses[0].CurrentLimit.RequestsPerUnit == 5 && answer.Statuses[0].CurrentLimit.Unit == RateLimitResponse.Types.RateLimit.Types.Unit.Minute,
            $"call {i} OK with {5 - i} left of 5/minute");
    }
    else
    {
        Check(answer.OverallCode == RateLimitResponse.Types.Code.OverLimit && answer.ResponseHeadersToAdd.Any(h => h.Key.Equals("retry-after", StringComparison.OrdinalIgnoreCase))
              && answer.ResponseHeadersToAdd.Any(h => h.Key.Equals("ratelimit", StringComparison.OrdinalIgnoreCase))
              && answer.ResponseHeadersToAdd.Any(h => h.Key.Equals("ratelimit-policy", StringComparison.OrdinalIgnoreCase)),
            "call 6 OVER_LIMIT with Retry-After, RateLimit and RateLimit-Policy headers");
    }
}

// 2. All or nothing: with the address exhausted, a request that also names a path consumes nothing from the path's bucket.
var path = $"/api/aon-{Guid.NewGuid():N}";
for (var i = 0; i < 3; i++)
{
    var denied = await client.ShouldRateLimitAsync(R("demo", D(("remote_address", ip)), D(("path", path))));
    Check(denied.OverallCode == RateLimitResponse.Types.Code.OverLimit && denied.Statuses[0].Code == RateLimitResponse.Types.Code.OverLimit
          && denied.Statuses[1].Code == RateLimitResponse.Types.Code.Ok, $"denied together: {Show(denied)}");
}
var alone = await client2.ShouldRateLimitAsync(R("demo", D(("path", path))));
Check(alone.OverallCode == RateLimitResponse.Types.Code.Ok && alone.Statuses[0].LimitRemaining == 99, $"the path's bucket lost nothing to the denials (99 of 100 left after one call): {Show(alone)}");

// 3. hits_addend as the cost, and a premium token bucket (our extension), shadow mode, unlimited, no rule, unknown domain.
var premium = await client.ShouldRateLimitAsync(new RateLimitRequest { Domain = "demo", HitsAddend = 20, Descriptors = { D(("plan", "premium")) } });
Check(premium.OverallCode == RateLimitResponse.Types.Code.Ok, $"premium burst of 20 in one request: {Show(premium)}");
var premiumAgain = await client.ShouldRateLimitAsync(new RateLimitRequest { Domain = "demo", HitsAddend = 5, Descriptors = { D(("plan", "premium")) } });
Check(premiumAgain.OverallCode == RateLimitResponse.Types.Code.OverLimit, $"premium bucket empty right after: {Show(premiumAgain)}");
var shadow = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => client.ShouldRateLimitAsync(R("demo", D(("plan", "basic")))).ResponseAsync));
Check(shadow.All(s => s.OverallCode == RateLimitResponse.Types.Code.Ok), $"shadow rule answers OK: {Show(shadow[^1])}");
var health = await client.ShouldRateLimitAsync(R("demo", D(("path", "/health"))));
Check(health.OverallCode == RateLimitResponse.Types.Code.Ok && health.Statuses[0].CurrentLimit is null, $"unlimited: {Show(health)}");
var nothing = await client.ShouldRateLimitAsync(R("demo", D(("no_such_key", "x"))));
Check(nothing.OverallCode == RateLimitResponse.Types.Code.Ok, $"no rule: {Show(nothing)}");
var unknown = await client.ShouldRateLimitAsync(R("no-such-domain", D(("remote_address", ip))));
Check(unknown.OverallCode == RateLimitResponse.Types.Code.Ok, $"unknown domain: {Show(unknown)}");

// 4. A per-descriptor limit override (Envoy's descriptor.limit) and a malformed request.
var overridden = D(("remote_address", $"{ip}-o"));
overridden.Limit = new RateLimitDescriptor.Types.RateLimitOverride { RequestsPerUnit = 1, Unit = Envoy.Type.V3.RateLimitUnit.Hour };
var first = await client.ShouldRateLimitAsync(R("demo", overridden));
var second = await client.ShouldRateLimitAsync(R("demo", overridden));
Check(first.OverallCode == RateLimitResponse.Types.Code.Ok && second.OverallCode == RateLimitResponse.Types.Code.OverLimit && second.Statuses[0].CurrentLimit.RequestsPerUnit == 1,
    $"limit override 1/hour: {Show(first)} then {Show(second)}");
try
{
    await client.ShouldRateLimitAsync(new RateLimitRequest { Domain = "" });
    Check(false, "empty request refused");
}
catch (RpcException ex)
{
    Check(ex.StatusCode == StatusCode.InvalidArgument, $"empty request: {ex.StatusCode} {ex.Status.Detail}");
}

Console.WriteLine(failures == 0 ? "all checks passed" : $"{failures} checks failed");
return failures == 0 ? 0 : 1;
