using Npgsql;
using Reliability.Infrastructure;

namespace Reliability.Diagnostics;

/// <summary>
/// A grain that only says who it is: each call stamps its activation's row with the database's clock,
/// so a drill can tell afterwards how long two activations of one key served calls side by side.
/// </summary>
public sealed class ActivationProbeGrain(ILocalSiloDetails silo, ActivationProbeLog log) : Grain, IActivationProbeGrain
{
    private readonly string _activation = Guid.NewGuid().ToString("N");

    public async Task<ActivationProbeAnswer> Touch()
    {
        await log.RecordAsync(this.GetPrimaryKeyString(), _activation, silo.Name);
        return new ActivationProbeAnswer(silo.Name, _activation);
    }
}

/// <summary>Writes the probe rows. One row per activation: its key, silo, first and last call (database time), and calls.</summary>
public sealed class ActivationProbeLog(DatabaseOptions database) : IDisposable
{
    private readonly Lazy<NpgsqlDataSource> _source = new(() => NpgsqlDataSource.Create(database.ConnectionStringFor(StoreNames.Diagnostics)));

    public async Task RecordAsync(string key, string activation, string silo)
    {
        // Keyed by the activation itself, so two activations never write the same row: nothing to version-check.
        await using var command = _source.Value.CreateCommand(
            """
            INSERT INTO activation_probes (grain_key, activation, silo, first_seen, last_seen, calls)
            VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp(), 1)
            ON CONFLICT (grain_key, activation) DO UPDATE SET last_seen = clock_timestamp(), calls = activation_probes.calls + 1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        command.Parameters.Add(new NpgsqlParameter { Value = activation });
        command.Parameters.Add(new NpgsqlParameter { Value = silo });
        await command.ExecuteNonQueryAsync();
    }

    public void Dispose()
    {
        if (_source.IsValueCreated)
        {
            _source.Value.Dispose();
        }
    }
}
