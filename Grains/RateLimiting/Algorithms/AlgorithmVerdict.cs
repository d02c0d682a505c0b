namespace Reliability.RateLimiting.Algorithms;

/// <summary>
/// What one algorithm says about one request, in ticks. <see cref="Remaining"/> and <see cref="ResetAfter"/>
/// describe the state after the request if it is allowed (and consumed), and the current state if not.
/// </summary>
public readonly record struct AlgorithmVerdict(bool Allowed, long Remaining, long ResetAfter, long RetryAfter, long Delay)
{
    public static AlgorithmVerdict Allow(long remaining, long resetAfter, long delay = 0) => new(true, remaining, resetAfter, 0, delay);

    public static AlgorithmVerdict Deny(long remaining, long resetAfter, long retryAfter) => new(false, remaining, resetAfter, Math.Max(1, retryAfter), 0);
}
