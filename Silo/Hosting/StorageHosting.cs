using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.Runtime.Hosting;
using Reliability.Infrastructure;
using Reliability.Idempotency;
using Reliability.Projections;

namespace Reliability.Silo.Hosting;

public static class StorageHosting
{
    private const string Invariant = "Npgsql";

    /// <summary>ADO.NET membership on the cluster store, with the fast failure detection of <see cref="MembershipTuning"/>.</summary>
    public static ISiloBuilder UseToolkitClustering(this ISiloBuilder silo, DatabaseOptions database) =>
        silo.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = database.ConnectionStringFor(StoreNames.Cluster);
            })
            .Configure<ClusterMembershipOptions>(MembershipTuning.Apply)
            .Configure<SiloMessagingOptions>(o => o.ResponseTimeout = MembershipTuning.ResponseTimeout);

    /// <summary>One named grain storage per store; each store is its own schema or database.</summary>
    public static ISiloBuilder AddToolkitStorage(this ISiloBuilder silo, DatabaseOptions database)
    {
        silo.Services.TryAddSingleton(database);
        // A database error that reaches a caller (e.g. "too many clients") travels as itself, not as a missing codec.
        silo.Services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));
        foreach (var store in StoreCatalog.GrainStorage)
        {
            var connectionString = database.ConnectionStringFor(store.Name);
            silo.AddAdoNetGrainStorage(store.Name, options => options.Configure<Serializer>((o, serializer) =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
                // The Orleans binary format, version-tolerant through the [Id] attributes of the state types,
                // instead of the provider's default Newtonsoft JSON with embedded type names.
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
        }

        // The keys' state: a table of its own, written in batches (see IdempotencyStorage), reading through
        // to the ADO.NET storage for keys written before it.
        var idempotency = database.ConnectionStringFor(StoreNames.Idempotency);
        silo.AddAdoNetGrainStorage(IdempotencyStorage.LegacyName, options => options.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = idempotency;
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        silo.Services.AddGrainStorage(StoreNames.Idempotency, (sp, _) => new IdempotencyStorage(
            idempotency, new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>()), sp.GetRequiredKeyedService<IGrainStorage>(IdempotencyStorage.LegacyName)));

        // The views' state: a table of its own, written in batches (see ViewStateStorage).
        var views = database.ConnectionStringFor(StoreNames.Projections);
        silo.Services.AddGrainStorage(StoreNames.Projections, (sp, _) =>
            new ViewStateStorage(views, new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>())));
        return silo;
    }

    public static ISiloBuilder AddToolkitReminders(this ISiloBuilder silo, DatabaseOptions database) =>
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = database.ConnectionStringFor(StoreNames.Cluster);
        });

    /// <summary>The development variant: every store in memory, reminders in memory.</summary>
    public static ISiloBuilder AddToolkitInMemoryStorage(this ISiloBuilder silo)
    {
        silo.Services.TryAddSingleton(new DatabaseOptions());
        foreach (var store in StoreCatalog.GrainStorage.Select(s => s.Name).Append(StoreNames.Idempotency).Append(StoreNames.Projections))
        {
            silo.AddMemoryGrainStorage(store);
        }

        return silo.UseInMemoryReminderService();
    }
}
