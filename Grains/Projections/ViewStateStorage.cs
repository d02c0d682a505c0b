using Npgsql;
using Orleans.Storage;
using Reliability.Infrastructure;

namespace Reliability.Projections;

/// <summary>
/// The view grains' state in <c>view_states</c>, read and written in batches (a rebuild touches tens of
/// thousands of views at once).
/// </summary>
/// <remarks>
/// Views are written without waiting for their commit to reach disk (<c>synchronous_commit=off</c>):
/// that wait was most of a projection round under load. Nothing can be lost by it, because a view is
/// only ever counted as applied by the runner's checkpoint, which is written afterwards with a normal,
/// durable commit — and PostgreSQL flushes its log in order, so making the checkpoint durable makes
/// every view write committed before it durable too. A database crash can only lose view writes whose
/// checkpoint was not durable either; the runner then applies those events again.
/// </remarks>
public sealed class ViewStateStorage(string connectionString, IGrainStorageSerializer serializer)
    : BatchedGrainStorage(connectionString, "view_states", durableCommits: false, serializer)
{
    /// <summary>Deletes every view whose key starts with <paramref name="keyPrefix"/> (a retired generation).</summary>
    public static NpgsqlBatchCommand DeleteByPrefix(string keyPrefix)
    {
        var command = new NpgsqlBatchCommand("DELETE FROM view_states WHERE left(grain_key, length($1)) = $1");
        command.Parameters.AddWithValue(keyPrefix);
        return command;
    }
}
