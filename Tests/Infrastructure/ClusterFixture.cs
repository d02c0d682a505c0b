using Orleans.TestingHost;
using Reliability.Infrastructure;

namespace Reliability.Tests.Infrastructure;

/// <summary>One 3-silo cluster shared by the tests of <see cref="ClusterCollection"/>; tests that kill silos build their own.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public DatabaseOptions Database { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync() => (Cluster, Database) = await TestClusters.StartAsync("shared");

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
