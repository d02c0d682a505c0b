using Reliability.Infrastructure;
using Reliability.Sagas;
using Reliability.Sagas.Workflows;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Sagas;

/// <summary>The sagas table on a real PostgreSQL.</summary>
public sealed class SagaStoreTests
{
    [Fact]
    public async Task Counts_OfSomeStatusesOnly_CountThoseAndLeaveTheOthersOut()
    {
        var database = new DatabaseOptions { ConnectionString = await TestDatabase.CreateAsync("saga-store") };
        var store = StoreCatalog.All.Single(s => s.Name == StoreNames.Sagas);
        await SchemaInstaller.ApplyAsync(store, database.ConnectionStringFor(StoreNames.Sagas), CancellationToken.None);
        await using var sagas = new PostgresSagaStore(database);
        var machine = new SagaMachine(new SagaOptions());
        var now = DateTimeOffset.UtcNow;
        var statuses = new[] { SagaStatus.Running, SagaStatus.Completed, SagaStatus.Completed, SagaStatus.Failed, SagaStatus.Compensated };
        for (var i = 0; i < statuses.Length; i++)
        {
            var state = machine.Start($"transfer-c{i}", BuiltInWorkflows.Saga(SagaDefinitions.Transfer($"c{i}", "a", "b", 1m)), now);
            Assert.True(await sagas.InsertAsync(state));
            await sagas.UpdateAsync(state with { Status = statuses[i] }, 1);
        }

        var all = await sagas.CountsAsync();
        var gauged = await sagas.CountsAsync([SagaStatus.Running, SagaStatus.Compensating, SagaStatus.Failed]);

        Assert.Equal(2, all[SagaStatus.Completed]);
        Assert.Equal(4, all.Count);
        Assert.Equal(new Dictionary<SagaStatus, long> { [SagaStatus.Running] = 1, [SagaStatus.Failed] = 1 }, gauged);
    }
}
