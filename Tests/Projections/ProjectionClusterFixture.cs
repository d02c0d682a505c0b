using Orleans.TestingHost;
using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Tests.Infrastructure;
using Reliability.Tests.Sagas;

namespace Reliability.Tests.Projections;

/// <summary>A 3-silo cluster whose runners poll every 200 ms (nudges still do the real work) and keep alive every 2 s.</summary>
public sealed class ProjectionClusterFixture : IAsyncLifetime
{
    public static ProjectionOptions FastOptions() => new()
    {
        PollInterval = TimeSpan.FromMilliseconds(200),
        KeepAlivePeriod = TimeSpan.FromSeconds(2),
    };

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public DatabaseOptions Database { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync() =>
        (Cluster, Database) = await TestClusters.StartAsync("projections", sagas: SagaClusterFixture.FastOptions(), projections: FastOptions());

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
