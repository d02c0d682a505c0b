using System.Collections.Immutable;
using System.Text.Json;
using Reliability.Projections;
using Reliability.Sagas;
using Reliability.Services;
using Reliability.Tests.Sagas;

namespace Reliability.Tests.Projections;

/// <summary>Places orders and transfers through real sagas, and reads the views back, for the projection tests.</summary>
public sealed class Shop(IClusterClient client)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Lock _gate = new();

    public List<string> Orders { get; } = [];

    public HashSet<string> Customers { get; } = [];

    public List<string> Accounts { get; } = [];

    public async Task<string> StockAsync(int quantity, decimal price)
    {
        var sku = $"sku-{Guid.NewGuid():N}"[..16];
        await client.GetGrain<IInventoryGrain>(sku).Restock("seed", quantity, price);
        return sku;
    }

    public async Task<string> AccountAsync(decimal balance)
    {
        var id = $"a-{Guid.NewGuid():N}"[..16];
        await client.GetGrain<IAccountGrain>(id).Open("open", balance);
        lock (_gate)
        {
            Accounts.Add(id);
        }

        return id;
    }

    public async Task<SagaView> PlaceOrderAsync(string customer, params OrderLine[] lines)
    {
        var orderId = $"o-{Guid.NewGuid():N}"[..16];
        lock (_gate)
        {
            Orders.Add(orderId);
            Customers.Add(customer);
        }

        await StartAsync($"order-{orderId}", SagaDefinitions.PlaceOrder(orderId, customer, [.. lines]));
        return await new SagaWaiter(client).WaitAsync($"order-{orderId}", TimeSpan.FromSeconds(60));
    }

    public async Task<SagaView> TransferAsync(string from, string to, decimal amount)
    {
        var id = $"t-{Guid.NewGuid():N}"[..16];
        await StartAsync($"transfer-{id}", SagaDefinitions.Transfer(id, from, to, amount));
        return await new SagaWaiter(client).WaitAsync($"transfer-{id}", TimeSpan.FromSeconds(60));
    }

    /// <summary>Starts a saga, again if a silo died under the call: the same id starts it once.</summary>
    private async Task StartAsync(string sagaId, WorkflowStart start)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await client.GetGrain<ISagaGrain>(sagaId).StartWorkflow(start);
                return;
            }
            catch (Exception ex) when (attempt < 10 && ex is TimeoutException or OrleansException)
            {
                await Task.Delay(200);
            }
        }
    }

    public static ImmutableArray<ConsistencyToken> Tokens(SagaView saga) =>
        [.. saga.Consistency.Select(t => ConsistencyToken.TryParse(t, out var token) ? token! : throw new FormatException(t))];

    /// <summary>Waits until the projection has no backlog and no rebuild in progress.</summary>
    public async Task<ProjectionStatus> CaughtUpAsync(string projection, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        ProjectionStatus? status = null;
        while (true)
        {
            try
            {
                status = await client.GetGrain<IProjectionRunnerGrain>(projection).GetStatus();
                if (status.RebuildingGeneration is null && status.Sources.All(s => s.EventsBehind == 0))
                {
                    return status;
                }
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                // The runner's silo just died: it comes back on another.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Projection {projection} did not catch up: {JsonSerializer.Serialize(status, Json)}");
            }

            await Task.Delay(100);
        }
    }

    public async Task CaughtUpAllAsync()
    {
        foreach (var projection in ProjectionNames.All)
        {
            await CaughtUpAsync(projection);
        }
    }

    /// <summary>Every view the shop touched, as JSON, to compare two generations.</summary>
    public async Task<string> SnapshotAsync()
    {
        var none = ImmutableArray<ConsistencyToken>.Empty;
        var snapshot = new
        {
            Orders = await Task.WhenAll(Orders.Select(o => client.ReadOrderSummaryAsync(o, none, TimeSpan.Zero))),
            Customers = await Task.WhenAll(Customers.Order().Select(c => client.ReadCustomerOrdersAsync(c, none, TimeSpan.Zero))),
            Accounts = await Task.WhenAll(Accounts.Select(a => client.ReadStatementAsync(a, none, TimeSpan.Zero))),
            Totals = await client.ReadTotalsAsync(none, TimeSpan.Zero),
        };
        return JsonSerializer.Serialize(snapshot, Json);
    }

    /// <summary>Rebuilds every projection and waits until the new generations are live.</summary>
    public async Task RebuildAllAsync()
    {
        var before = new Dictionary<string, int>();
        foreach (var projection in ProjectionNames.All)
        {
            var runner = client.GetGrain<IProjectionRunnerGrain>(projection);
            before[projection] = (await runner.GetStatus()).LiveGeneration;
            var started = await runner.Rebuild();
            // A small rebuild may already have caught up and cut over by the time the call answers.
            Assert.True(started.RebuildingGeneration == before[projection] + 1 || started.LiveGeneration == before[projection] + 1);
        }

        await CaughtUpAllAsync();
        foreach (var projection in ProjectionNames.All)
        {
            Assert.Equal(before[projection] + 1, (await client.GetGrain<IProjectionRunnerGrain>(projection).GetStatus()).LiveGeneration);
        }
    }
}
