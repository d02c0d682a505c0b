using Npgsql;
using Reliability.Infrastructure;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Foundation;

public sealed class SchemaTests
{
    [Fact]
    public async Task ApplySchema_RunEightTimesConcurrentlyThenAgain_SucceedsAndLeavesOneIdenticalSchema()
    {
        var database = new DatabaseOptions { ConnectionString = await TestDatabase.CreateAsync("schema") };

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ApplyAllAsync(database)));
        var first = await DescribeAsync(database.ConnectionString!);
        await ApplyAllAsync(database);
        var second = await DescribeAsync(database.ConnectionString!);

        Assert.Equal(first, second);
        Assert.Contains("cluster.orleansquery rows=16", first);
        Assert.Contains("diagnostics.orleansquery rows=3", first);
        Assert.Contains("cluster.orleansmembershiptable", first);
        Assert.Contains("cluster.orleansreminderstable", first);
        Assert.Contains("diagnostics.orleansstorage", first);
        Assert.Contains("accounts.events: position bigint, stream_id character varying, version integer", first);
        Assert.Contains("sagas.sagas: saga_id character varying", first);
    }

    [Fact]
    public async Task ApplySchema_OnADatabaseWithTheNarrowKeyColumn_WidensItToTheLongestKey()
    {
        var database = new DatabaseOptions { ConnectionString = await TestDatabase.CreateAsync("schema-widen") };
        await ApplyAllAsync(database);
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using (var narrow = new NpgsqlCommand("ALTER TABLE idempotency.orleansstorage ALTER COLUMN grainidextensionstring TYPE varchar(512)", connection))
        {
            await narrow.ExecuteNonQueryAsync();
        }

        await ApplyAllAsync(database);
        await using var width = new NpgsqlCommand(
            """
            SELECT character_maximum_length FROM information_schema.columns
             WHERE table_schema = 'idempotency' AND table_name = 'orleansstorage' AND column_name = 'grainidextensionstring'
            """, connection);

        Assert.Equal(StorageKeys.MaxLength, await width.ExecuteScalarAsync());
    }

    private static async Task ApplyAllAsync(DatabaseOptions database)
    {
        foreach (var store in StoreCatalog.All)
        {
            await SchemaInstaller.ApplyAsync(store, database.ConnectionStringFor(store.Name), CancellationToken.None);
        }
    }

    /// <summary>Every table of the project's schemas with its columns, and the row count of the query tables.</summary>
    private static async Task<string> DescribeAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var lines = new List<string>();
        await using (var columns = new NpgsqlCommand(
            """
            SELECT table_schema || '.' || table_name || ': ' || string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
            FROM information_schema.columns
            WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'public')
            GROUP BY table_schema, table_name ORDER BY 1
            """, connection))
        await using (var reader = await columns.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(0));
            }
        }

        foreach (var store in StoreCatalog.All.Where(s => s.Scripts.Contains(SqlScripts.OrleansQueries)))
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {store.Name}.orleansquery", connection);
            lines.Add($"{store.Name}.orleansquery rows={await count.ExecuteScalarAsync()}");
        }

        return string.Join(Environment.NewLine, lines);
    }
}
