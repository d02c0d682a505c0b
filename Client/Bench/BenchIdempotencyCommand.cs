using System.Collections.Immutable;
using System.ComponentModel;
using Npgsql;
using Reliability.Client.Infrastructure;
using Reliability.Idempotency;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Bench;

/// <summary>
/// <c>bench idempotency</c>: first-time Begin + Complete pairs (two durable writes each) and replays,
/// through the key grains, against the same claim / complete / replay written directly in PostgreSQL —
/// the design a user would otherwise pick — in the same run, on the same server.
/// </summary>
public sealed class BenchIdempotencyCommand : AsyncCommand<BenchIdempotencyCommand.Settings>
{
    public sealed class Settings : RoundsBenchSettings
    {
        [CommandOption("--in-flight <N>")]
        [DefaultValue(64)]
        public int InFlight { get; init; } = 64;

        [CommandOption("--replay-keys <N>")]
        [Description("Completed keys the replay scenarios read (default 10,000).")]
        [DefaultValue(10_000)]
        public int ReplayKeys { get; init; } = 10_000;
    }

    private static readonly StoredResponse Response = new(201, "application/json", [.. "{\"item\":{\"sku\":\"book-1\",\"quantity\":1}}"u8], ImmutableDictionary<string, string>.Empty);

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var duration = settings.MeasuredDuration();

        AnsiConsole.MarkupLine($"[bold]bench idempotency[/] on {Markup.Escape(MachineInfo.Describe())}, {DateTime.UtcNow:yyyy-MM-dd}: " +
                               $"{settings.Silos} silo(s), {settings.InFlight} in flight, {Durations.Format(duration)} × {settings.Rounds} rounds");
        await using var bench = await BenchCluster.CreateAsync("idempotency", cancellationToken);
        await bench.StartSilosAsync(settings.Silos, cancellationToken);
        await using var connection = await ClusterConnection.ConnectAsync(bench.Target, cancellationToken);
        var client = connection.Client;
        var direct = await DirectPostgres.CreateAsync(bench.ConnectionString, settings.InFlight, cancellationToken);
        await using var _ = direct;

        var run = Guid.NewGuid().ToString("N")[..8];
        await AnsiConsole.Status().StartAsync($"completing {settings.ReplayKeys:N0} keys to replay…", async _ =>
        {
            await Parallel.ForAsync(0, settings.ReplayKeys, new ParallelOptions { MaxDegreeOfParallelism = settings.InFlight }, async (i, _) =>
            {
                var key = client.GetIdempotencyKey("bench", $"replay-{run}-{i}");
                var started = await key.Begin("fp");
                await key.Complete(started.LeaseId, Response);
                await direct.ClaimAndCompleteAsync($"replay-{run}-{i}");
            });
        });

        // New keys must be new in every round: the load runner numbers operations from zero each time.
        var epoch = 0;
        var scenarios = new List<(string Name, Func<long, ValueTask> Operation)>
        {
            ("grain: Begin + Complete of a new key", async i =>
            {
                var key = client.GetIdempotencyKey("bench", $"new-{run}-{epoch}-{i}");
                var started = await key.Begin("fp");
                Require(started.Kind == IdempotencyOutcomeKind.Started);
                Require((await key.Complete(started.LeaseId, Response)).Kind == IdempotencyOutcomeKind.Accepted);
            }),
            ("PostgreSQL: INSERT … ON CONFLICT claim + UPDATE", async i => await direct.ClaimAndCompleteAsync($"new-{run}-{epoch}-{i}")),
            ("grain: replay of a completed key", async i =>
                Require((await client.GetIdempotencyKey("bench", $"replay-{run}-{i % settings.ReplayKeys}").Begin("fp")).Kind == IdempotencyOutcomeKind.Completed)),
            ("PostgreSQL: SELECT replay", async i => Require(await direct.ReplayAsync($"replay-{run}-{i % settings.ReplayKeys}"))),
        };

        var rounds = await LoadRunner.RunRoundsAsync(scenarios, settings.Rounds, settings.InFlight, duration / 3, duration, cancellationToken, () => epoch++);
        var results = rounds.Select(r => r.Median).ToList();
        var table = LoadRunner.RoundsTable(rounds);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"first-time pairs: {results[0].PerSecond / results[1].PerSecond:0.00}× the direct PostgreSQL path (target ≥ 0.8×)");
        AnsiConsole.MarkupLine($"replays: {results[2].PerSecond / results[3].PerSecond:0.00}× the PostgreSQL SELECT (target ≥ 3×)");
        return 0;
    }

    private static void Require(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Unexpected outcome.");
        }
    }

    /// <summary>The reference: the same three steps as plain SQL on one table, through Npgsql's pool.</summary>
    private sealed class DirectPostgres(NpgsqlDataSource source) : IAsyncDisposable
    {
        private static readonly byte[] Body = Response.Body.ToArray();

        public static async Task<DirectPostgres> CreateAsync(string connectionString, int inFlight, CancellationToken cancellationToken)
        {
            var source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = inFlight + 8 }.ConnectionString);
            await using var command = source.CreateCommand(
                """
                CREATE TABLE IF NOT EXISTS bench_idempotency (
                    key text PRIMARY KEY, status smallint NOT NULL, fingerprint text NOT NULL, lease uuid NOT NULL,
                    response_status int, response bytea, created_at timestamptz NOT NULL DEFAULT now())
                """);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return new DirectPostgres(source);
        }

        public async Task ClaimAndCompleteAsync(string key)
        {
            var lease = Guid.NewGuid();
            await using (var claim = source.CreateCommand(
                "INSERT INTO bench_idempotency (key, status, fingerprint, lease) VALUES ($1, 1, 'fp', $2) ON CONFLICT DO NOTHING RETURNING 1"))
            {
                claim.Parameters.AddWithValue(key);
                claim.Parameters.AddWithValue(lease);
                Require(await claim.ExecuteScalarAsync() is not null);
            }

            await using var complete = source.CreateCommand(
                "UPDATE bench_idempotency SET status = 2, response_status = 201, response = $3 WHERE key = $1 AND lease = $2");
            complete.Parameters.AddWithValue(key);
            complete.Parameters.AddWithValue(lease);
            complete.Parameters.AddWithValue(Body);
            Require(await complete.ExecuteNonQueryAsync() == 1);
        }

        public async Task<bool> ReplayAsync(string key)
        {
            await using var replay = source.CreateCommand("SELECT response_status, response FROM bench_idempotency WHERE key = $1 AND status = 2");
            replay.Parameters.AddWithValue(key);
            await using var reader = await replay.ExecuteReaderAsync();
            return await reader.ReadAsync() && reader.GetInt32(0) == 201;
        }

        public ValueTask DisposeAsync() => source.DisposeAsync();
    }
}
