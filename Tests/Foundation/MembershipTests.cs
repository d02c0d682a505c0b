using Npgsql;
using Reliability.Infrastructure;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Foundation;

[Collection(ClusterCollection.Name)]
public sealed class MembershipTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Cluster_OfThreeSilos_IsListedActiveInThePostgresMembershipTable()
    {
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionStringFor(StoreNames.Cluster));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = @cluster AND status = 3", connection);
        command.Parameters.AddWithValue("cluster", fixture.Cluster.Options.ClusterId);
        var activeRows = (long)(await command.ExecuteScalarAsync())!;

        var activeHosts = await fixture.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);

        Assert.Equal(3, activeRows);
        Assert.Equal(3, activeHosts.Count);
    }
}
