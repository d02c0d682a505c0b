using System.ComponentModel;
using Reliability.Client.Infrastructure;
using Reliability.Diagnostics;
using Reliability.RateLimiting;
using Spectre.Console;
using Spectre.Console.Cli;
using StackExchange.Redis;

namespace Reliability.Client.Bench;

/// <summary>
/// <c>bench ratelimit</c>: decisions per second and latency at a fixed number in flight, over many subjects
/// and over one hot subject, next to two references measured in the same run: an empty grain call (the
/// ceiling of any grain-based design) and a token bucket in a Redis Lua script. Then the memory of an
/// active bucket, from a million subjects touched once.
/// </summary>
public sealed class BenchRateLimitCommand : AsyncCommand<BenchRateLimitCommand.Settings>
{
    public sealed class Settings : RoundsBenchSettings
    {
        [CommandOption("--in-flight <N>")]
        [DefaultValue(256)]
        public int InFlight { get; init; } = 256;

        [CommandOption("--subjects <N>")]
        [DefaultValue(10_000)]
        public int Subjects { get; init; } = 10_000;

        [CommandOption("--only <TEXT>")]
        [Description("Run only the scenarios whose name contains TEXT (e.g. \"check\", \"Redis\", \"hot\").")]
        public string? Only { get; init; }

        [CommandOption("--memory-subjects <N>")]
        [Description("Subjects touched once to measure memory per bucket (default 1,000,000; 0 skips).")]
        [DefaultValue(1_000_000)]
        public int MemorySubjects { get; init; } = 1_000_000;
    }

    /// <summary>The limit of every rate-limit benchmark (bench ratelimit, rls, telemetry): a token bucket of 1,000,000 refilled each second, never reached.</summary>
    public static readonly RateLimitPolicy Policy = new("bench", RateLimitAlgorithm.TokenBucket, 1_000_000, TimeSpan.FromSeconds(1), Rate: 1_000_000);

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var duration = settings.MeasuredDuration();

        var warmUp = duration / 3;
        AnsiConsole.MarkupLine($"[bold]bench ratelimit[/] on {Markup.Escape(MachineInfo.Describe())}, {DateTime.UtcNow:yyyy-MM-dd}: " +
                               $"{settings.Silos} silo(s), {settings.InFlight} in flight, {Durations.Format(duration)} per scenario");
        await using var bench = await BenchCluster.CreateAsync("ratelimit", cancellationToken);
        await bench.StartSilosAsync(settings.Silos, cancellationToken);
        await using var connection = await ClusterConnection.ConnectAsync(bench.Target, cancellationToken);
        var client = connection.Client;
        await client.GetGrain<IRateLimitPolicyRegistryGrain>(IRateLimitPolicyRegistryGrain.DefaultKey).Upsert(Policy);
        var (redis, redisMissing) = await RedisServer.TryStartAsync();
        await using var _ = redis;

        // The scenarios, measured in interleaved rounds so that drift on a shared machine hits all alike.
        var scenarios = new List<(string Name, Func<long, ValueTask> Operation)>();
        foreach (var (label, keys) in new[] { ($"{settings.Subjects:N0} subjects", settings.Subjects), ("1 hot subject", 1) })
        {
            var pings = Enumerable.Range(0, keys).Select(i => client.GetGrain<IPingGrain>($"ping-{i}")).ToArray();
            var limiters = Enumerable.Range(0, keys).Select(i => client.GetRateLimiter($"subject-{i}")).ToArray();
            var request = new RateLimitRequest([Policy.Name], 1);
            scenarios.Add(($"empty grain call, {label}", i => pings[i % keys].Ping()));
            scenarios.Add(($"rate-limit check, {label}", async i => Require((await limiters[i % keys].Check(request)).Problem is null)));
            if (redis is not null)
            {
                var bucket = new RedisTokenBucket(redis.Connection.GetDatabase(), Policy.Limit, Policy.Rate, Policy.Period);
                var redisKeys = Enumerable.Range(0, keys).Select(i => new RedisKey[] { $"bucket:{i}" }).ToArray();
                scenarios.Add(($"Redis Lua token bucket, {label}", async i => await bucket.TakeAsync(redisKeys[i % keys])));
            }
        }

        scenarios.RemoveAll(s => settings.Only is { } only && !s.Name.Contains(only, StringComparison.OrdinalIgnoreCase));
        var rounds = await LoadRunner.RunRoundsAsync(scenarios, settings.Rounds, settings.InFlight, warmUp, duration, cancellationToken);
        var results = rounds.Select(r => r.Median).ToList();
        var table = LoadRunner.RoundsTable(rounds);
        AnsiConsole.Write(table);
        if (redisMissing is not null)
        {
            AnsiConsole.MarkupLine($"[yellow]Redis reference skipped: {Markup.Escape(redisMissing)}[/]");
        }

        Ratio(results, "rate-limit check", "empty grain call");
        Ratio(results, "rate-limit check", "Redis Lua token bucket");

        if (settings.MemorySubjects > 0)
        {
            await MeasureMemoryAsync(client, settings, cancellationToken);
        }

        return 0;
    }

    private static void Require(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException("The check was rejected; the benchmark policy is missing.");
        }
    }

    private static void Ratio(IReadOnlyList<LoadResult> results, string subject, string reference)
    {
        foreach (var scope in results.Where(r => r.Name.StartsWith(subject, StringComparison.Ordinal)).Select(r => r.Name[subject.Length..]))
        {
            var mine = results.FirstOrDefault(r => r.Name == subject + scope);
            var theirs = results.FirstOrDefault(r => r.Name == reference + scope);
            if (mine is { Operations: > 0 } && theirs is { Operations: > 0 })
            {
                AnsiConsole.MarkupLine($"{subject}{scope}: {mine.PerSecond / theirs.PerSecond:0.00}× {reference}");
            }
        }
    }

    /// <summary>Heap growth per activation after touching many subjects once, each a new bucket.</summary>
    private static async Task MeasureMemoryAsync(IClusterClient client, Settings settings, CancellationToken cancellationToken)
    {
        var probe = client.GetGrain<ISiloProbeGrain>(0);
        var management = client.GetGrain<IManagementGrain>(0);
        var before = await probe.Measure();
        var activationsBefore = await CountActivationsAsync(management);
        var request = new RateLimitRequest([Policy.Name], 1);
        long touched = 0;
        await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"touching {settings.MemorySubjects:N0} subjects once", maxValue: settings.MemorySubjects);
                await Parallel.ForAsync(0, settings.MemorySubjects, new ParallelOptions { MaxDegreeOfParallelism = settings.InFlight, CancellationToken = cancellationToken },
                    async (i, _) =>
                    {
                        await client.GetRateLimiter($"memory-{i}").Check(request);
                        if (Interlocked.Increment(ref touched) % 10_000 == 0)
                        {
                            task.Value = touched;
                        }
                    });
                task.Value = touched;
            });

        var after = await probe.Measure();
        var activations = await CountActivationsAsync(management) - activationsBefore;
        AnsiConsole.MarkupLine($"memory: {activations:N0} new activations; managed heap +{(after.ManagedHeapBytes - before.ManagedHeapBytes) / 1048576.0:N0} MiB " +
                               $"= [bold]{(after.ManagedHeapBytes - before.ManagedHeapBytes) / (double)Math.Max(1, activations):N0} bytes per active bucket[/]; " +
                               $"working set +{(after.WorkingSetBytes - before.WorkingSetBytes) / (double)Math.Max(1, activations):N0} bytes per bucket");
    }

    private static async Task<long> CountActivationsAsync(IManagementGrain management)
    {
        var silos = (await management.GetHosts(onlyActive: true)).Keys.ToArray();
        return (await management.GetRuntimeStatistics(silos)).Sum(s => (long)s.ActivationCount);
    }
}
