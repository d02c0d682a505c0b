using StackExchange.Redis;

namespace Reliability.Client.Bench;

/// <summary>
/// The design a user would otherwise pick: a token bucket in a Redis hash, read-refill-take done by one
/// Lua script so that it is atomic on the server. Same semantics as the toolkit's token bucket (whole
/// periods refill, capacity caps), so the two do the same work per decision.
/// </summary>
public sealed class RedisTokenBucket(IDatabase database, long capacity, long tokensPerPeriod, TimeSpan period)
{
    private const string Script = """
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'since')
        local capacity = tonumber(ARGV[1])
        local rate = tonumber(ARGV[2])
        local period = tonumber(ARGV[3])
        local now = tonumber(ARGV[4])
        local cost = tonumber(ARGV[5])
        local tokens = tonumber(state[1])
        local since = tonumber(state[2])
        if tokens == nil then
          tokens = capacity
          since = now
        end
        local periods = math.floor((now - since) / period)
        if periods > 0 then
          tokens = math.min(capacity, tokens + periods * rate)
          since = since + periods * period
        end
        local allowed = 0
        if cost <= tokens then
          tokens = tokens - cost
          allowed = 1
        end
        redis.call('HSET', KEYS[1], 'tokens', tokens, 'since', since)
        redis.call('PEXPIRE', KEYS[1], period * (math.ceil(capacity / rate) + 1))
        return { allowed, tokens }
        """;

    private readonly RedisValue _capacity = capacity;
    private readonly RedisValue _rate = tokensPerPeriod;
    private readonly RedisValue _period = (long)period.TotalMilliseconds;

    /// <summary>True when the request of <paramref name="cost"/> is allowed.</summary>
    public async Task<bool> TakeAsync(RedisKey[] key, long cost = 1)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(Script, key, [_capacity, _rate, _period, now, cost]))!;
        return (long)result[0] == 1;
    }
}
