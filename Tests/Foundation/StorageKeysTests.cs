using Reliability.Idempotency;
using Reliability.Infrastructure;
using Reliability.RateLimiting;

namespace Reliability.Tests.Foundation;

public sealed class StorageKeysTests
{
    [Theory]
    [InlineData("plain")]
    [InlineData("a{b}c")]
    [InlineData("{")]
    [InlineData("}}{")]
    [InlineData("${jndi:ldap://x/a}")]
    public void AKey_FormatsBackToItself_AndGivesBackItsId(string id)
    {
        var key = StorageKeys.Of("s:", id);

        // What the ADO.NET provider does with a string key when it describes it.
        Assert.Equal("s:" + id, string.Format(System.Globalization.CultureInfo.InvariantCulture, key));
        Assert.Equal(id, StorageKeys.IdOf("s:", key));
    }

    [Fact]
    public void DifferentIds_GetDifferentKeys_AndIdsWithoutBraces_KeepTheirKey()
    {
        string[] ids = ["a{", "a{{", "a}", "a{}", "a}{", "a"];

        Assert.Equal(ids.Length, ids.Select(id => StorageKeys.Of("s:", id)).Distinct().Count());
        Assert.Equal("cart:abc-1", StorageKeys.Of("cart:", "abc-1"));
    }

    [Fact]
    public void TheLongestKeysCallersCanMake_FitTheStorageColumn()
    {
        var idempotency = IdempotencyKeys.GrainKey(IdempotencyKeys.ScopeOf(new string('a', 8192)), new string('{', IdempotencyKeys.MaxKeyLength));
        var subject = RateLimiterKeys.Of(new string('}', RateLimitRules.MaxSubjectLength));

        Assert.InRange(idempotency.Length, 1, StorageKeys.MaxLength);
        Assert.InRange(subject.Length, 1, StorageKeys.MaxLength);
    }

    [Theory]
    [InlineData("22001", false)] // a value too long for its column: a bug, not an outage
    [InlineData("23505", false)]
    [InlineData("57P01", true)] // the server is shutting down
    [InlineData("53300", true)] // too many connections
    public void DatabaseErrors_AreUnavailability_OnlyWhenTheirStateIsTransient(string sqlState, bool unavailable)
    {
        var error = new Npgsql.PostgresException("test", "ERROR", "ERROR", sqlState);

        Assert.Equal(unavailable, Reliability.Silo.Http.ErrorHandling.IsUnavailable(error));
        Assert.True(Reliability.Silo.Http.ErrorHandling.IsUnavailable(new Npgsql.NpgsqlException("connection lost", new System.Net.Sockets.SocketException())));
    }

    /// <summary>
    /// Seen from outside, with a silo paused (SIGSTOP) mid-request: a retry through another silo waited 12 s
    /// and got 500, because Orleans gave up on the paused silo with "Message expired before placement could
    /// complete" — an OperationCanceledException, which is the cluster not answering in time, not a bug.
    /// </summary>
    [Fact]
    public void AGrainCallOrleansGaveUpOn_IsUnavailability()
    {
        Assert.True(Reliability.Silo.Http.ErrorHandling.IsUnavailable(new OperationCanceledException("Message expired before placement could complete for grain idempotencykey/public:k.")));
        Assert.False(Reliability.Silo.Http.ErrorHandling.IsUnavailable(new InvalidOperationException("a bug")));
    }
}
