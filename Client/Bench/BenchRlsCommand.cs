using System.ComponentModel;
using Grpc.Net.Client;
using Reliability.Client.Infrastructure;
using Reliability.Envoy.RateLimit;
using Reliability.Envoy.RateLimitService;
using Reliability.RateLimiting;
using Spectre.Console;
using Spectre.Console.Cli;
using StackExchange.Redis;
using CheckRequest = Reliability.RateLimiting.RateLimitRequest;
using RateLimitRequest = Reliability.Envoy.RateLimitService.RateLimitRequest;

namespace Reliability.Client.Bench;

/// <summary>
/// <c>bench rls</c>: ShouldRateLimit over gRPC, as Envoy calls it, against the Orleans-client check of
/// <c>bench ratelimit</c> and a Redis Lua token bucket, on the same subjects and the same limit, in one run.
/// </summary>
public sealed class BenchRlsCommand : AsyncCommand<BenchRlsCommand.Settings>
{
    public sealed class Settings : RoundsBenchSettings
    {
        [CommandOption("--in-flight <N>")]
        [DefaultValue(256)]
        public int InFlight { get; init; } = 256;

        [CommandOption("--subjects <N>")]
        [DefaultValue(10_000)]
        public int Subjects { get; init; } = 10_000;
    }

    private static RateLimitPolicy Policy => BenchRateLimitCommand.Policy;

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var duration = settings.MeasuredDuration();

        if (settings.Silos is < 1 or > 5 || settings.InFlight is < 1 or > 4096 || settings.Subjects < 1 || settings.Rounds < 1)
        {
            throw new CommandException("--silos is 1 to 5, --in-flight 1 to 4096, --subjects and --rounds at least 1.");
        }

        AnsiConsole.MarkupLine($"[bold]bench rls[/] on {Markup.Escape(MachineInfo.Describe())}, {DateTime.UtcNow:yyyy-MM-dd}: " +
                               $"{settings.Silos} silo(s), {settings.InFlight} in flight, {settings.Subjects:N0} subjects, {Durations.Format(duration)} × {settings.Rounds} rounds");
        var config = Directory.CreateTempSubdirectory("reliability-bench-rls-");
        try
        {
            // The same limit as the Orleans-client scenario's policy: a token bucket of 1,000,000 refilled each second.
            await File.WriteAllTextAsync(Path.Combine(config.FullName, "bench.yaml"), """
                domain: bench
                descriptors:
                  - key: subject
                    rate_limit: { algorithm: token-bucket, unit: second, requests_per_unit: 1000000, burst: 1000000 }
                """, cancellationToken);
            await using var bench = await BenchCluster.CreateAsync("rls", cancellationToken, new Dictionary<string, string> { ["RateLimitService:ConfigPath"] = config.FullName });
            var silos = await bench.StartSilosAsync(settings.Silos, cancellationToken);
            await using var connection = await ClusterConnection.ConnectAsync(bench.Target, cancellationToken);
            await connection.Client.GetGrain<IRateLimitPolicyRegistryGrain>(IRateLimitPolicyRegistryGrain.DefaultKey).Upsert(Policy);
            var (redis, redisMissing) = await RedisServer.TryStartAsync();
            await using var _ = redis;

            var channels = silos.Select(s => GrpcChannel.ForAddress(s.Endpoint.RlsUrl, new GrpcChannelOptions
            {
                // Kestrel allows 100 streams per HTTP/2 connection; more in flight need more connections, as Envoy opens them.
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            })).ToList();
            var clients = channels.Select(c => new RateLimitService.RateLimitServiceClient(c)).ToList();
            var requests = Enumerable.Range(0, settings.Subjects).Select(i =>
            {
                var descriptor = new RateLimitDescriptor();
                descriptor.Entries.Add(new RateLimitDescriptor.Types.Entry { Key = "subject", Value = $"subject-{i}" });
                return new RateLimitRequest { Domain = "bench", Descriptors = { descriptor } };
            }).ToArray();
            var limiters = Enumerable.Range(0, settings.Subjects).Select(i => connection.Client.GetRateLimiter($"subject-{i}")).ToArray();
            var check = new CheckRequest([Policy.Name], 1);
            var scenarios = new List<(string Name, Func<long, ValueTask> Operation)>
            {
                ("RLS ShouldRateLimit (gRPC, h2c)", async i =>
                {
                    var answer = await clients[(int)(i % clients.Count)].ShouldRateLimitAsync(requests[i % requests.Length]);
                    // An answer without a limit came from the failure mode (not decided within RateLimitService:Timeout): an error here.
                    Require(answer.OverallCode == RateLimitResponse.Types.Code.Ok && answer.Statuses[0].CurrentLimit is not null);
                }),
                ("Orleans-client check", async i => Require((await limiters[i % limiters.Length].Check(check)).Allowed)),
            };
            if (redis is not null)
            {
                var bucket = new RedisTokenBucket(redis.Connection.GetDatabase(), Policy.Limit, Policy.Rate, Policy.Period);
                var keys = Enumerable.Range(0, settings.Subjects).Select(i => new RedisKey[] { $"bucket:{i}" }).ToArray();
                scenarios.Add(("Redis Lua token bucket", async i => await bucket.TakeAsync(keys[i % keys.Length])));
            }

            var rounds = await LoadRunner.RunRoundsAsync(scenarios, settings.Rounds, settings.InFlight, duration / 3, duration, cancellationToken);
            AnsiConsole.Write(LoadRunner.RoundsTable(rounds));
            if (redisMissing is not null)
            {
                AnsiConsole.MarkupLine($"[yellow]Redis reference skipped: {Markup.Escape(redisMissing)}[/]");
            }

            var (rls, orleans) = (rounds[0].Median, rounds[1].Median);
            AnsiConsole.MarkupLine($"RLS: {rls.PerSecond / orleans.PerSecond:0.00}× the Orleans-client check (target ≥ 0.8×); p99 {rls.P99Ms:0.00} ms (target < 5 ms at 1 silo)");
            if (scenarios.Count > 2)
            {
                AnsiConsole.MarkupLine($"RLS: {rls.PerSecond / rounds[2].Median.PerSecond:0.00}× the Redis Lua token bucket");
            }

            channels.ForEach(c => c.Dispose());
            return rounds.Sum(r => r.Median.Errors) == 0 ? 0 : 1;
        }
        finally
        {
            config.Delete(recursive: true);
        }
    }

    private static void Require(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException("The check was not decided, or was denied under a limit it cannot reach.");
        }
    }
}
