using Orleans.TestingHost;
using Reliability.Infrastructure;
using Reliability.Sagas;
using Reliability.Services;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Sagas;

/// <summary>A 3-silo cluster with fast retries and a 2 s keep-alive, and faults the tests switch on and off.</summary>
public sealed class SagaClusterFixture : IAsyncLifetime
{
    public static SagaOptions FastOptions() => new()
    {
        MaxAttempts = 4,
        MaxCompensationAttempts = 3,
        BackoffBase = TimeSpan.FromMilliseconds(20),
        BackoffMax = TimeSpan.FromMilliseconds(200),
        StepTimeout = TimeSpan.FromSeconds(2),
        KeepAlivePeriod = TimeSpan.FromSeconds(2),
    };

    /// <summary>The options object the silos use: changing its faults takes effect at the next step.</summary>
    public SagaOptions Options { get; } = FastOptions();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public DatabaseOptions Database { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync() => (Cluster, Database) = await TestClusters.StartAsync("sagas", sagas: Options, faultSeed: 7);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    public async Task<string> OpenAccountAsync(decimal balance)
    {
        var id = $"a-{Guid.NewGuid():N}"[..18];
        await Client.GetGrain<IAccountGrain>(id).Open("open", balance);
        return id;
    }

    public async Task<SagaView> RunAsync(string sagaId, WorkflowStart start, TimeSpan? timeout = null)
    {
        var saga = Client.GetGrain<ISagaGrain>(sagaId);
        await saga.StartWorkflow(start);
        return await WaitForTerminalAsync(sagaId, timeout ?? TimeSpan.FromSeconds(30));
    }

    public Task<SagaView> WaitForTerminalAsync(string sagaId, TimeSpan timeout) => new SagaWaiter(Client).WaitAsync(sagaId, timeout);
}
