using Npgsql;
using Reliability.Client.Chaos;

namespace Reliability.Client.Partition;

/// <summary>Two activations of one probe key that both served calls over the same stretch of time (database clock, offsets from the run's start).</summary>
public sealed record Coexistence(string Key, string FirstSilo, string SecondSilo, TimeSpan From, TimeSpan To)
{
    public TimeSpan Length => To - From;
}

/// <summary>
/// Single activation, measured: a set of probe grain keys is called through every silo, every
/// <see cref="Period"/>, for the whole drill. Each call stamps its activation's row in PostgreSQL with the
/// database's clock (see <c>ActivationProbeGrain</c>); afterwards, two rows of one key whose spans overlap
/// are two activations alive at once, and the overlap is how long they coexisted. A silo that cannot reach
/// PostgreSQL cannot stamp its rows, so what it served then is not seen: the figures are a lower bound.
/// </summary>
public sealed class ActivationProbes(ChaosHttp http, int silos, Availability clock, string run, string connectionString)
{
    public const int Keys = 12;
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(300);

    private DateTime _databaseStart;
    private long _endTicks = long.MaxValue;

    /// <summary>Ends the lanes at <paramref name="end"/> instead of the end they were started with.</summary>
    public void EndAt(TimeSpan end) => Interlocked.Exchange(ref _endTicks, end.Ticks);

    /// <summary>Reads the database's clock once, to place its timestamps on the run's timeline.</summary>
    public async Task StartClockAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT clock_timestamp()", connection);
        var before = clock.Now;
        _databaseStart = ((DateTime)(await command.ExecuteScalarAsync(cancellationToken))!).ToUniversalTime() - before;
    }

    /// <summary>One lane per silo and key: call, wait a period, again, until <paramref name="until"/>.</summary>
    public Task RunAsync(TimeSpan until, CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, silos).SelectMany(silo => Enumerable.Range(0, Keys).Select(key => LaneAsync(silo, key, until, cancellationToken))));

    private async Task LaneAsync(int silo, int key, TimeSpan until, CancellationToken cancellationToken)
    {
        // Spread the lanes over one period, so the silos see a steady trickle rather than bursts.
        await Task.Delay(Period * (key + (silo * Keys)) / (silos * Keys), cancellationToken);
        while (clock.Now < until && clock.Now.Ticks < Interlocked.Read(ref _endTicks) && !cancellationToken.IsCancellationRequested)
        {
            await http.SendToAsync(silo, "probe", HttpMethod.Post, $"/api/admin/drills/activation-probes/{run}-probe-{key}", cancellationToken: cancellationToken);
            await Task.Delay(Period, cancellationToken);
        }
    }

    /// <summary>Every pair of activations of one key whose spans overlap.</summary>
    public async Task<IReadOnlyList<Coexistence>> CoexistencesAsync(CancellationToken cancellationToken)
    {
        var rows = new List<(string Key, string Silo, TimeSpan First, TimeSpan Last)>();
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                "SELECT grain_key, silo, first_seen, last_seen FROM diagnostics.activation_probes WHERE grain_key LIKE $1", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = $"{run}-probe-%" });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetString(0), reader.GetString(1), Offset(reader.GetDateTime(2)), Offset(reader.GetDateTime(3))));
            }
        }

        var found = new List<Coexistence>();
        foreach (var key in rows.GroupBy(r => r.Key))
        {
            var activations = key.OrderBy(a => a.First).ToList();
            for (var i = 0; i < activations.Count; i++)
            {
                for (var j = i + 1; j < activations.Count; j++)
                {
                    var from = activations[j].First;
                    var to = activations[i].Last < activations[j].Last ? activations[i].Last : activations[j].Last;
                    if (to > from)
                    {
                        found.Add(new Coexistence(key.Key, activations[i].Silo, activations[j].Silo, from, to));
                    }
                }
            }
        }

        return found;
    }

    private TimeSpan Offset(DateTime databaseTime) => databaseTime.ToUniversalTime() - _databaseStart;
}
