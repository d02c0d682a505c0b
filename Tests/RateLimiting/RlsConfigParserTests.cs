using Reliability.RateLimiting;
using Reliability.Silo.RateLimitService;

namespace Reliability.Tests.RateLimiting;

/// <summary>envoyproxy/ratelimit's YAML, our extensions, and the errors a bad file gets.</summary>
public sealed class RlsConfigParserTests
{
    [Fact]
    public void AnEnvoyFile_IsReadUnchanged()
    {
        var domain = RlsConfigParser.Parse("""
            domain: mongo_cps
            descriptors:
              - key: database
                value: users
                rate_limit:
                  unit: second
                  requests_per_unit: 500
              - key: database
                value: default
                detailed_metric: true
                rate_limit:
                  unit: second
                  requests_per_unit: 500
              - key: remote_address
                shadow_mode: true
                rate_limit: { unit: hour, requests_per_unit: 10 }
                descriptors:
                  - key: path
                    value: /api/*
                    rate_limit: { unit: minute, requests_per_unit: 5 }
              - key: internal
                unlimited: true
            """, "mongo.yaml");

        Assert.Equal("mongo_cps", domain.Name);
        Assert.Equal(4, domain.Descriptors.Length);
        var users = domain.Descriptors[0].Policy!;
        Assert.Equal((RateLimitAlgorithm.FixedWindow, 500L, TimeSpan.FromSeconds(1)), (users.Algorithm, users.Limit, users.Period));
        Assert.True(domain.Descriptors[2].Policy!.Shadow);
        Assert.Equal(TimeSpan.FromMinutes(1), domain.Descriptors[2].Children.Single().Policy!.Period);
        Assert.True(domain.Descriptors[3].Unlimited);
        Assert.Equal("mongo_cps: remote_address, path=/api/*", domain.Descriptors[2].Children.Single().Path);
    }

    [Fact]
    public void OurExtensions_SetTheAlgorithmWindowBurstAndRate()
    {
        var domain = RlsConfigParser.Parse("""
            domain: d
            descriptors:
              - key: a
                rate_limit: { algorithm: sliding-window-log, period: 5m, requests_per_unit: 100 }
              - key: b
                rate_limit: { algorithm: token-bucket, unit: second, requests_per_unit: 10, burst: 50 }
              - key: c
                rate_limit: { algorithm: leaking-bucket, unit: minute, requests_per_unit: 60, burst: 5, rate: 30 }
            """, "d.yaml");

        var (a, b, c) = (domain.Descriptors[0].Policy!, domain.Descriptors[1].Policy!, domain.Descriptors[2].Policy!);
        Assert.Equal((RateLimitAlgorithm.SlidingWindowLog, 100L, TimeSpan.FromMinutes(5)), (a.Algorithm, a.Limit, a.Period));
        Assert.Equal((RateLimitAlgorithm.TokenBucket, 50L, 10L, TimeSpan.FromSeconds(1)), (b.Algorithm, b.Limit, b.Rate, b.Period));
        Assert.Equal((RateLimitAlgorithm.LeakingBucket, 5L, 30L, TimeSpan.FromMinutes(1)), (c.Algorithm, c.Limit, c.Rate, c.Period));
    }

    [Theory]
    [InlineData("domain: d\ndescriptors:\n  - key: a\n    rate_limt: { unit: second, requests_per_unit: 1 }\n", 4, "descriptors.rate_limt")]
    [InlineData("domain: d\ndescriptors:\n  - key: a\n    rate_limit: { unit: fortnight, requests_per_unit: 1 }\n", 4, "rate_limit.unit")]
    [InlineData("domain: d\ndescriptors:\n  - key: a\n    rate_limit:\n      unit: second\n      requests_per_unit: many\n", 6, "requests_per_unit")]
    [InlineData("domain: d\ndescriptors:\n  - key: a\n    rate_limit:\n      algorithm: fixed-window\n      unit: second\n      requests_per_unit: 1\n      burst: 3\n", 8, "rate_limit.burst")]
    [InlineData("domain: d\ndescriptors:\n  - key: a\n    rate_limit:\n      algorithm: best\n      unit: second\n      requests_per_unit: 1\n", 5, "rate_limit.algorithm")]
    [InlineData("domain: d\ndescriptors:\n  - key: a\n  - key: a\n", 4, "key")]
    [InlineData("domain: d\ndescriptors:\n  - value: x\n", 3, "key")]
    [InlineData("domain: d\ndescriptors: [ { key: a, rate_limit: { unit: second } ]\n", 2, "yaml")]
    [InlineData("descriptors: []\n", 1, "domain")]
    public void ABadFile_IsRefusedWithTheLineAndTheField(string yaml, int line, string field)
    {
        var error = Assert.Throws<RlsConfigException>(() => RlsConfigParser.Parse(yaml, "bad.yaml"));

        Assert.Equal(line, error.Line);
        Assert.Equal(field, error.Field);
        Assert.StartsWith($"bad.yaml:{line}: {field}: ", error.Message);
    }

    [Fact]
    public void Matching_NeedsEveryEntry_AndNamesTheSubjectByDomainAndEntries()
    {
        var domain = RlsConfigParser.Parse("""
            domain: d
            descriptors:
              - key: a
                descriptors:
                  - key: b
                    rate_limit: { unit: second, requests_per_unit: 1 }
            """, "d.yaml");

        Assert.Null(RlsConfigParser.Match(domain, [("a", "1")]));
        Assert.Null(RlsConfigParser.Match(domain, [("a", "1"), ("b", "2"), ("c", "3")]));
        Assert.Equal("rls/d/a=1|b=2", RlsConfigParser.Match(domain, [("a", "1"), ("b", "2")])!.Subject);
        Assert.StartsWith("rls/", RlsConfigParser.Match(domain, [("a", new string('x', 500)), ("b", "2")])!.Subject);
        Assert.True(RlsConfigParser.Match(domain, [("a", new string('x', 500)), ("b", "2")])!.Subject.Length <= RateLimitRules.MaxSubjectLength);
    }
}
