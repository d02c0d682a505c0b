using Reliability.RateLimiting;

namespace Reliability.Tests.RateLimiting;

public sealed class RateLimitRulesTests
{
    private static readonly RateLimitPolicy Valid = new("api", RateLimitAlgorithm.TokenBucket, 10, TimeSpan.FromSeconds(1), Rate: 5);

    public static TheoryData<RateLimitPolicy, string> Nonsense => new()
    {
        { Valid with { Limit = 0 }, "limit" },
        { Valid with { Limit = -5 }, "limit" },
        { Valid with { Period = TimeSpan.FromTicks(9_999) }, "period" },
        { Valid with { Period = TimeSpan.FromDays(367) }, "period" },
        { Valid with { Rate = 0 }, "rate" },
        { Valid with { DefaultCost = 11 }, "defaultCost" },
        { Valid with { DefaultCost = 0 }, "defaultCost" },
        { Valid with { Name = "" }, "name" },
        { Valid with { Name = "has space" }, "name" },
        { Valid with { Algorithm = RateLimitAlgorithm.FixedWindow, Rate = 3 }, "rate" },
        { Valid with { Algorithm = RateLimitAlgorithm.SlidingWindowLog, Limit = 100_001 }, "limit" },
        { Valid with { Algorithm = (RateLimitAlgorithm)42 }, "algorithm" },
    };

    [Theory]
    [MemberData(nameof(Nonsense))]
    public void Check_RejectsNonsense_NamingTheField(RateLimitPolicy policy, string field)
    {
        var errors = RateLimitRules.Check(policy);

        Assert.Contains(errors, e => e.Field == field);
    }

    [Fact]
    public void Check_AcceptsASensiblePolicyOfEveryAlgorithm()
    {
        foreach (var algorithm in Enum.GetValues<RateLimitAlgorithm>())
        {
            var policy = Valid with { Algorithm = algorithm, Rate = algorithm.HasRate() ? 5 : 0 };
            Assert.Empty(RateLimitRules.Check(policy));
        }
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("NaNs")]
    [InlineData("Infinitys")]
    [InlineData("-1s")]
    [InlineData("1 fortnight")]
    [InlineData("")]
    public void Durations_RejectWhatIsNotAFiniteDuration(string text) => Assert.False(Durations.TryParse(text, out _));

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("1s", 1000)]
    [InlineData("1.5m", 90_000)]
    [InlineData("2h", 7_200_000)]
    [InlineData("1d", 86_400_000)]
    public void Durations_ParseTheUsualUnits(string text, long milliseconds)
    {
        Assert.True(Durations.TryParse(text, out var duration));
        Assert.Equal(milliseconds, (long)duration.TotalMilliseconds);
        Assert.Equal(duration, Durations.TryParse(Durations.Format(duration), out var again) ? again : default);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Subject_Empty_IsRejected(string? subject) => Assert.Equal("subject", RateLimitRules.CheckSubject(subject)?.Field);

    [Fact]
    public void Subject_LongerThan256Characters_IsRejected_And256IsFine()
    {
        Assert.NotNull(RateLimitRules.CheckSubject(new string('x', 257)));
        Assert.Null(RateLimitRules.CheckSubject(new string('x', 256)));
    }
}
