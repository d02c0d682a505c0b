namespace Reliability.Infrastructure;

/// <summary>Ticks (100 ns) since the Unix epoch: the time unit of the rate-limit algorithms, so windows align to the epoch.</summary>
public static class UnixTicks
{
    public static long Now(TimeProvider time) => time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
}
