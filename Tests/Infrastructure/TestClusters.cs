using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;
using Reliability.Idempotency;
using Reliability.Infrastructure;
using Reliability.Projections;
using Reliability.Sagas;
using Reliability.Silo.Hosting;

namespace Reliability.Tests.Infrastructure;

/// <summary>
/// In-process clusters (Microsoft.Orleans.TestingHost) wired exactly like the silo process: ADO.NET
/// membership, storage and reminders on a real PostgreSQL database of their own.
/// </summary>
public static class TestClusters
{
    public static async Task<(InProcessTestCluster Cluster, DatabaseOptions Database)> StartAsync(
        string purpose, short silos = 3, Action<ISiloBuilder>? configureSilo = null, IdempotencyOptions? idempotency = null,
        SagaOptions? sagas = null, int? faultSeed = null, ProjectionOptions? projections = null)
    {
        // Pools of the clusters before this one keep idle connections for minutes; the server has a limit.
        Npgsql.NpgsqlConnection.ClearAllPools();
        var database = new DatabaseOptions { ConnectionString = await TestDatabase.CreateAsync(purpose) };
        foreach (var store in StoreCatalog.All)
        {
            await SchemaInstaller.ApplyAsync(store, database.ConnectionStringFor(store.Name), CancellationToken.None);
        }

        var builder = new InProcessTestClusterBuilder(silos);
        UseRealMembership(builder.Options);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseToolkitClustering(database).AddToolkitStorage(database).AddToolkitReminders(database)
                .AddRateLimiting()
                .AddIdempotency(idempotency)
                .AddSagas(sagas, faultSeed)
                .AddProjections(projections)
                .AddGrainCallTracing();
            configureSilo?.Invoke(silo);
        });
        builder.ConfigureClient(client => client
            .AddOutgoingGrainCallFilter<TracedOutgoingGrainCalls>()
            .UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = database.ConnectionStringFor(StoreNames.Cluster);
            })
            .Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1))
            .Configure<Orleans.Serialization.ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql")));

        var cluster = builder.Build();
        await cluster.DeployAsync();
        return (cluster, database);
    }

    /// <summary>
    /// InProcessTestCluster always installs its in-memory membership table unless this internal switch is
    /// off (10.4.2 has no public setter). With it off, the ADO.NET membership configured above is the one
    /// the silos and the client use; MembershipTests reads the rows back from PostgreSQL to prove it.
    /// </summary>
    private static void UseRealMembership(InProcessTestClusterOptions options)
    {
        var property = typeof(InProcessTestClusterOptions).GetProperty("UseTestClusterMembership", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("InProcessTestClusterOptions.UseTestClusterMembership is gone: this TestingHost version needs another way to use ADO.NET membership.");
        property.SetValue(options, false);
    }

    /// <summary>The silo handle hosting a grain, found by the silo name the grain reported.</summary>
    public static InProcessSiloHandle SiloNamed(this InProcessTestCluster cluster, string name) =>
        cluster.Silos.Single(s => s.SiloHost.Services.GetRequiredService<ILocalSiloDetails>().Name == name);

    /// <summary>The silo where a grain is active now.</summary>
    public static InProcessSiloHandle HostOf(this InProcessTestCluster cluster, IAddressable grain) =>
        cluster.TryGetGrainContext(grain.GetGrainId(), out var context)
            ? cluster.Silos.Single(s => s.SiloAddress == context.Address.SiloAddress)
            : throw new InvalidOperationException($"{grain.GetGrainId()} is not active on any silo.");
}
