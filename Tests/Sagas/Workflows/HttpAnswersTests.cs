using Reliability.Sagas;
using Reliability.Sagas.Workflows;

namespace Reliability.Tests.Sagas.Workflows;

public sealed class HttpAnswersTests
{
    [Theory]
    [InlineData(200, StepOutcomeKind.Succeeded)]
    [InlineData(201, StepOutcomeKind.Succeeded)]
    [InlineData(204, StepOutcomeKind.Succeeded)]
    [InlineData(301, StepOutcomeKind.Rejected)]
    [InlineData(400, StepOutcomeKind.Rejected)]
    [InlineData(404, StepOutcomeKind.Rejected)]
    [InlineData(409, StepOutcomeKind.Rejected)]
    [InlineData(422, StepOutcomeKind.Rejected)]
    [InlineData(408, StepOutcomeKind.Failed)]
    [InlineData(425, StepOutcomeKind.Failed)]
    [InlineData(429, StepOutcomeKind.Failed)]
    [InlineData(500, StepOutcomeKind.Failed)]
    [InlineData(503, StepOutcomeKind.Failed)]
    public void Classify_FollowsTheTable(int status, StepOutcomeKind expected) => Assert.Equal(expected, HttpAnswers.Classify(status, []));

    [Fact]
    public void Classify_AStatusTheStepCallsNonRetryable_IsARejection_EvenA5xx() =>
        Assert.Equal(StepOutcomeKind.Rejected, HttpAnswers.Classify(503, [503]));

    [Fact]
    public void RetryAfter_ReadsSecondsAndDates()
    {
        var now = new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromSeconds(7), HttpAnswers.RetryAfter("7", now));
        Assert.Equal(TimeSpan.FromSeconds(90), HttpAnswers.RetryAfter(now.AddSeconds(90).ToString("r"), now));
        Assert.Equal(TimeSpan.Zero, HttpAnswers.RetryAfter(now.AddSeconds(-5).ToString("r"), now));
        Assert.Null(HttpAnswers.RetryAfter("soon", now));
        Assert.Null(HttpAnswers.RetryAfter(null, now));
    }
}
