using System.Globalization;

namespace Reliability.Sagas.Workflows;

/// <summary>
/// What a participant's answer means for the saga, pure: 2xx succeeded; 408, 425, 429 and 5xx are transient
/// (the step is retried by its policy); any other status, and those the step lists as non-retryable, is
/// a business rejection (the saga compensates). Redirects are not followed: a participant that moved is
/// a configuration error, not something a retry mends.
/// </summary>
public static class HttpAnswers
{
    public static StepOutcomeKind Classify(int status, IReadOnlyCollection<int> nonRetryable) => status switch
    {
        _ when nonRetryable.Contains(status) => StepOutcomeKind.Rejected,
        >= 200 and < 300 => StepOutcomeKind.Succeeded,
        408 or 425 or 429 or >= 500 => StepOutcomeKind.Failed,
        _ => StepOutcomeKind.Rejected,
    };

    /// <summary>A <c>Retry-After</c> value (delay-seconds or an HTTP date) as a wait from <paramref name="now"/>; null if absent or unreadable.</summary>
    public static TimeSpan? RetryAfter(string? header, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        if (int.TryParse(header.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParseExact(header.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at > now ? at - now : TimeSpan.Zero
            : null;
    }
}
