using Npgsql;
using Reliability.Client.Infrastructure;

namespace Reliability.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server of this test run: started once, on first use, by the project's own
/// <see cref="ManagedPostgres"/>; stopped when the test process exits. Each caller gets a fresh database.
/// </summary>
public static class TestDatabase
{
    private static readonly string Parent = Path.Combine(Path.GetTempPath(), "reliability-test-postgres");
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static ManagedPostgres? _server;
    private static int _counter;

    public static async Task<ManagedPostgres> ServerAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_server is null)
            {
                await ManagedPostgres.SweepAbandonedAsync(Parent);
                _server = await ManagedPostgres.StartAsync(new ManagedPostgresOptions
                {
                    RootDirectory = Path.Combine(Parent, $"{Environment.ProcessId}-{Guid.NewGuid():N}"),
                    Durable = false,
                    DeleteOnStop = true,
                });
                AppDomain.CurrentDomain.ProcessExit += (_, _) => _server.StopAsync().GetAwaiter().GetResult();
            }

            return _server;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public static async Task<string> CreateAsync(string purpose)
    {
        var server = await ServerAsync();
        var name = $"t{Interlocked.Increment(ref _counter)}_{new string(purpose.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(30).ToArray())}";
        await using var connection = new NpgsqlConnection(server.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();

        // Many clusters of three silos share one server over a run, and each silo has a pool per store:
        // smaller pools keep the run well inside the server's connection limit.
        return new NpgsqlConnectionStringBuilder(server.ConnectionString(name)) { MaxPoolSize = 30 }.ConnectionString;
    }
}
