using Reliability.Infrastructure;

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
}
