using Grpc.Core;
using Grpc.Net.Client;
using Reliability.Envoy.RateLimit;
using Reliability.Envoy.RateLimitService;
using Reliability.Tests.Infrastructure;
using Code = Reliability.Envoy.RateLimitService.RateLimitResponse.Types.Code;
using Unit = Reliability.Envoy.RateLimitService.RateLimitResponse.Types.RateLimit.Types.Unit;

namespace Reliability.Tests.RateLimiting;

/// <summary>Envoy's rate-limit service on the three in-process silos, called as Envoy calls it: a gRPC client over h2c.</summary>
[Collection(SiloHostCollection.Name)]
public sealed class EnvoyRateLimitServiceTests(SiloHostFixture silo) : IDisposable
{
    private readonly string _domain = $"d{Guid.NewGuid():N}"[..16];
    private readonly List<GrpcChannel> _channels = [];

    [Fact]
    public async Task ALimitedDescriptor_IsOkUpToItsLimit_ThenOverLimit_WithStatusAndHeaders()
    {
        await ConfigureAsync("""
            descriptors:
              - key: api_key
                rate_limit:
                  unit: minute
                  requests_per_unit: 3
            """);

        var answers = new List<RateLimitResponse>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await Client(i).ShouldRateLimitAsync(Request(Descriptor(("api_key", "alice")))));
        }

        Assert.Equal([Code.Ok, Code.Ok, Code.Ok, Code.OverLimit], answers.Select(a => a.OverallCode));
        var denied = answers[3].Statuses.Single();
        Assert.Equal(Code.OverLimit, denied.Code);
        Assert.Equal(3u, denied.CurrentLimit.RequestsPerUnit);
        Assert.Equal(Unit.Minute, denied.CurrentLimit.Unit);
        Assert.Equal(0u, denied.LimitRemaining);
        Assert.InRange(denied.DurationUntilReset.ToTimeSpan(), TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        Assert.Equal(1u, answers[1].Statuses.Single().LimitRemaining);
        var headers = answers[3].ResponseHeadersToAdd.ToDictionary(h => h.Key, h => h.Value);
        Assert.Contains(";r=0;", headers["RateLimit"]);
        Assert.Contains(";q=3;w=60", headers["RateLimit-Policy"]);
        Assert.True(int.Parse(headers["Retry-After"]) is >= 1 and <= 60);
        Assert.DoesNotContain(answers[0].ResponseHeadersToAdd, h => h.Key == "Retry-After");
    }

    [Fact]
    public async Task ADeniedRequest_ConsumesNothingFromItsOtherDescriptors()
    {
        await ConfigureAsync("""
            descriptors:
              - key: user
                rate_limit: { unit: hour, requests_per_unit: 5 }
              - key: tenant
                rate_limit: { unit: hour, requests_per_unit: 1 }
            """);
        var both = Request(Descriptor(("user", "u1")), Descriptor(("tenant", "t1")));

        var first = await Client(0).ShouldRateLimitAsync(both);
        var second = await Client(1).ShouldRateLimitAsync(both);
        var third = await Client(2).ShouldRateLimitAsync(both);
        var userAlone = await Client(0).ShouldRateLimitAsync(Request(Descriptor(("user", "u1"))));

        Assert.Equal(Code.Ok, first.OverallCode);
        Assert.Equal(Code.OverLimit, second.OverallCode);
        Assert.Equal([Code.Ok, Code.OverLimit], second.Statuses.Select(s => s.Code));
        Assert.Equal(4u, second.Statuses[0].LimitRemaining);
        Assert.Equal(Code.OverLimit, third.OverallCode);
        // Only the first request took from the user's 5: the two denied ones gave theirs back.
        Assert.Equal(3u, userAlone.Statuses.Single().LimitRemaining);
    }

    [Fact]
    public async Task Matching_PrefersAnExactValue_ThenTheLongestWildcard_ThenTheKeyAlone_AndNeedsEveryEntryMatched()
    {
        await ConfigureAsync("""
            descriptors:
              - key: path
                value: /admin
                rate_limit: { unit: second, requests_per_unit: 1 }
              - key: path
                value: /api/*
                rate_limit: { unit: second, requests_per_unit: 2 }
              - key: path
                value: /api/v2/*
                rate_limit: { unit: second, requests_per_unit: 3 }
              - key: path
                rate_limit: { unit: second, requests_per_unit: 4 }
                descriptors:
                  - key: method
                    value: POST
                    rate_limit: { unit: second, requests_per_unit: 5 }
            """);

        async Task<uint?> LimitOf(params (string, string)[] entries) =>
            (await Client(0).ShouldRateLimitAsync(Request(Descriptor(entries)))).Statuses.Single().CurrentLimit?.RequestsPerUnit;

        Assert.Equal(1u, await LimitOf(("path", "/admin")));
        Assert.Equal(2u, await LimitOf(("path", "/api/orders")));
        Assert.Equal(3u, await LimitOf(("path", "/api/v2/orders")));
        Assert.Equal(4u, await LimitOf(("path", "/other")));
        Assert.Equal(5u, await LimitOf(("path", "/other"), ("method", "POST")));
        Assert.Null(await LimitOf(("path", "/other"), ("method", "GET")));
        Assert.Null(await LimitOf(("nothing", "x")));
    }

    [Fact]
    public async Task EachValueOfAKeyOnlyRule_HasItsOwnBucket_SharedByEverySilo()
    {
        await ConfigureAsync("""
            descriptors:
              - key: remote_address
                rate_limit: { unit: minute, requests_per_unit: 1 }
            """);

        var a1 = await Client(0).ShouldRateLimitAsync(Request(Descriptor(("remote_address", "10.0.0.1"))));
        var a2 = await Client(1).ShouldRateLimitAsync(Request(Descriptor(("remote_address", "10.0.0.1"))));
        var b1 = await Client(2).ShouldRateLimitAsync(Request(Descriptor(("remote_address", "10.0.0.2"))));

        Assert.Equal(Code.Ok, a1.OverallCode);
        Assert.Equal(Code.OverLimit, a2.OverallCode);
        Assert.Equal(Code.Ok, b1.OverallCode);
    }

    [Fact]
    public async Task AShadowRule_DecidesButAnswersOk_AndUnlimitedAndZeroRulesDoWhatTheySay()
    {
        await ConfigureAsync("""
            descriptors:
              - key: trial
                shadow_mode: true
                rate_limit: { unit: minute, requests_per_unit: 1 }
              - key: internal
                unlimited: true
              - key: blocked
                rate_limit: { unit: second, requests_per_unit: 0 }
            """);

        var trial = new List<RateLimitResponse>();
        for (var i = 0; i < 3; i++)
        {
            trial.Add(await Client(i).ShouldRateLimitAsync(Request(Descriptor(("trial", "x")))));
        }

        var internalCall = await Client(0).ShouldRateLimitAsync(Request(Descriptor(("internal", "x"))));
        var blocked = await Client(0).ShouldRateLimitAsync(Request(Descriptor(("blocked", "x"))));

        Assert.All(trial, t => Assert.Equal(Code.Ok, t.OverallCode));
        Assert.Equal(0u, trial[2].Statuses.Single().LimitRemaining);
        Assert.Equal(Code.Ok, internalCall.OverallCode);
        Assert.Null(internalCall.Statuses.Single().CurrentLimit);
        Assert.Equal(Code.OverLimit, blocked.OverallCode);
    }

    [Fact]
    public async Task HitsAddend_IsTheCost_ZeroMeansOne_AndADescriptorsOwnWins()
    {
        await ConfigureAsync("""
            descriptors:
              - key: bytes
                rate_limit: { unit: hour, requests_per_unit: 10 }
            """);

        var zero = await Client(0).ShouldRateLimitAsync(Request(Descriptor(("bytes", "a"))));
        var four = await Client(0).ShouldRateLimitAsync(new RateLimitRequest { Domain = _domain, HitsAddend = 4, Descriptors = { Descriptor(("bytes", "a")) } });
        var own = Descriptor(("bytes", "a"));
        own.HitsAddend = 2;
        var two = await Client(0).ShouldRateLimitAsync(new RateLimitRequest { Domain = _domain, HitsAddend = 4, Descriptors = { own } });
        var tooMuch = await Client(0).ShouldRateLimitAsync(new RateLimitRequest { Domain = _domain, HitsAddend = 4, Descriptors = { Descriptor(("bytes", "a")) } });

        Assert.Equal(9u, zero.Statuses.Single().LimitRemaining);
        Assert.Equal(5u, four.Statuses.Single().LimitRemaining);
        Assert.Equal(3u, two.Statuses.Single().LimitRemaining);
        Assert.Equal(Code.OverLimit, tooMuch.OverallCode);
    }

    [Fact]
    public async Task OurExtensions_OtherAlgorithmsAndAnyWindow_AreHonoured()
    {
        await ConfigureAsync("""
            descriptors:
              - key: bucket
                rate_limit: { algorithm: token-bucket, burst: 2, rate: 1, period: 5m, requests_per_unit: 1, unit: second }
            """);

        var answers = new List<RateLimitResponse>();
        for (var i = 0; i < 3; i++)
        {
            answers.Add(await Client(i).ShouldRateLimitAsync(Request(Descriptor(("bucket", "b")))));
        }

        Assert.Equal([Code.Ok, Code.Ok, Code.OverLimit], answers.Select(a => a.OverallCode));
        Assert.Contains(";q=2;w=300", answers[0].ResponseHeadersToAdd.Single(h => h.Key == "RateLimit-Policy").Value);
    }

    [Fact]
    public async Task ADomainSetThroughTheAdminApi_IsInForceOnEverySiloWithinASecond_AndABadOneIs400WithItsLine()
    {
        var route = $"/api/admin/ratelimit/rls/domains/{_domain}";
        var yaml = $"domain: {_domain}\ndescriptors:\n  - key: admin_key\n    rate_limit: {{ unit: hour, requests_per_unit: 11 }}\n";
        using var bad = await silo.Http.SendAsync(Yaml(route, yaml.Replace("unit: hour", "unit: fortnight")));
        using var anonymous = await silo.Http.SendAsync(new HttpRequestMessage(HttpMethod.Put, route) { Content = new StringContent(yaml) });

        using var set = await silo.Http.SendAsync(Yaml(route, yaml));
        var (seen, tookEffect) = await UntilEverySiloStatesAsync("admin_key", 11);
        using var removed = await silo.Http.SendAsync(silo.Request(HttpMethod.Delete, route, admin: true));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadAsStringAsync();
        Assert.Contains("rate_limit.unit", problem);
        Assert.Contains("line 4", problem);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, set.StatusCode);
        Assert.True(seen.All(s => s), "not every silo took the admin-set domain");
        Assert.True(tookEffect < TimeSpan.FromSeconds(1.5), $"the domain took {tookEffect.TotalMilliseconds:0} ms");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, removed.StatusCode);
    }

    [Fact]
    public async Task TheGrpcHealthService_SaysServing_OnTheSamePort()
    {
        using var channel = GrpcChannel.ForAddress(silo.RlsUrls[0]);

        var health = await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest());

        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public async Task AnUnknownDomain_IsOkAndUnlimited()
    {
        var answer = await Client(0).ShouldRateLimitAsync(new RateLimitRequest { Domain = "nobody-configured-this", Descriptors = { Descriptor(("a", "b")) } });

        Assert.Equal(Code.Ok, answer.OverallCode);
        Assert.Null(answer.Statuses.Single().CurrentLimit);
    }

    [Theory]
    [InlineData("", 1, "domain")]
    [InlineData("d", 0, "descriptors")]
    [InlineData("d", 17, "descriptors")]
    public async Task AMalformedRequest_IsInvalidArgument_WithAMessage(string domain, int descriptors, string named)
    {
        var request = new RateLimitRequest { Domain = domain };
        request.Descriptors.AddRange(Enumerable.Range(0, descriptors).Select(i => Descriptor(("k", $"v{i}"))));

        var error = await Assert.ThrowsAsync<RpcException>(() => Client(0).ShouldRateLimitAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(named, error.Status.Detail);
    }

    [Fact]
    public async Task AnEmptyKey_IsInvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Client(0).ShouldRateLimitAsync(Request(Descriptor(("", "v")))).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("key", error.Status.Detail);
    }

    [Fact]
    public async Task AChangedFile_IsInForceOnEverySiloWithinASecond_AndABadOneLeavesThePreviousInForce()
    {
        await ConfigureAsync("""
            descriptors:
              - key: reload
                rate_limit: { unit: hour, requests_per_unit: 7 }
            """);
        await File.WriteAllTextAsync(FilePath, $"""
            domain: {_domain}
            descriptors:
              - key: reload
                rate_limit: {"{"} unit: hour, requests_per_unit: 8 {"}"}
            """);
        var (seen, tookEffect) = await UntilEverySiloStatesAsync("reload", 8);
        await File.WriteAllTextAsync(FilePath, $"domain: {_domain}\ndescriptors:\n  - key: reload\n    rate_limit: {{ unit: fortnight, requests_per_unit: 9 }}\n");
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        Assert.True(seen.All(s => s), "not every silo took the new version");
        Assert.True(tookEffect < TimeSpan.FromSeconds(1.5), $"the new version took {tookEffect.TotalMilliseconds:0} ms");
        Assert.All(Enumerable.Range(0, silo.Silos.Count), i => Assert.Equal(8u, LimitAsync(i, "reload").GetAwaiter().GetResult()));
    }

    /// <summary>Asks every silo until each has stated <paramref name="limit"/> for the rule of <paramref name="key"/> once (5 s at most): who did, and how long it took.</summary>
    private async Task<(bool[] Seen, TimeSpan Took)> UntilEverySiloStatesAsync(string key, uint limit)
    {
        var changed = DateTime.UtcNow;
        var seen = new bool[silo.Silos.Count];
        while (!seen.All(s => s) && DateTime.UtcNow - changed < TimeSpan.FromSeconds(5))
        {
            for (var i = 0; i < seen.Length; i++)
            {
                seen[i] |= await LimitAsync(i, key) == limit;
            }
        }

        return (seen, DateTime.UtcNow - changed);
    }

    private HttpRequestMessage Yaml(string route, string yaml)
    {
        var request = silo.Request(HttpMethod.Put, route, admin: true);
        request.Content = new StringContent(yaml, System.Text.Encoding.UTF8, "application/yaml");
        return request;
    }

    public void Dispose()
    {
        File.Delete(FilePath);
        _channels.ForEach(c => c.Dispose());
    }

    private string FilePath => Path.Combine(silo.RlsConfigFolder, $"{_domain}.yaml");

    /// <summary>Writes this test's domain and waits until every silo has it in force (its first key has a limit everywhere).</summary>
    private async Task ConfigureAsync(string descriptors)
    {
        await File.WriteAllTextAsync(FilePath, $"domain: {_domain}\n{descriptors}");
        var firstKey = File.ReadLines(FilePath).First(l => l.TrimStart().StartsWith("- key:", StringComparison.Ordinal)).Split(':', 2)[1].Trim();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var loaded = 0;
            for (var i = 0; i < silo.Silos.Count; i++)
            {
                loaded += await LimitAsync(i, firstKey) is not null ? 1 : 0;
            }

            if (loaded == silo.Silos.Count)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the silos did not load {FilePath}");
    }

    /// <summary>The limit a rule for <paramref name="key"/> states, probed under a value no test uses otherwise (its own bucket).</summary>
    private async Task<uint?> LimitAsync(int siloIndex, string key) =>
        (await Client(siloIndex).ShouldRateLimitAsync(Request(Descriptor((key, "__probe__"))))).Statuses.Single().CurrentLimit?.RequestsPerUnit;

    private RateLimitRequest Request(params RateLimitDescriptor[] descriptors)
    {
        var request = new RateLimitRequest { Domain = _domain };
        request.Descriptors.AddRange(descriptors);
        return request;
    }

    private static RateLimitDescriptor Descriptor(params (string Key, string Value)[] entries)
    {
        var descriptor = new RateLimitDescriptor();
        descriptor.Entries.AddRange(entries.Select(e => new RateLimitDescriptor.Types.Entry { Key = e.Key, Value = e.Value }));
        return descriptor;
    }

    private Envoy.RateLimitService.RateLimitService.RateLimitServiceClient Client(int siloIndex)
    {
        var channel = GrpcChannel.ForAddress(silo.RlsUrls[siloIndex % silo.RlsUrls.Count]);
        _channels.Add(channel);
        return new Envoy.RateLimitService.RateLimitService.RateLimitServiceClient(channel);
    }
}
