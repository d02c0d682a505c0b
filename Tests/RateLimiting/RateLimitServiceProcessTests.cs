using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Reliability.Client.Infrastructure;
using Reliability.Envoy.RateLimit;
using Reliability.Envoy.RateLimitService;
using Reliability.Silo.RateLimitService;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.RateLimiting;

/// <summary>The rate-limit service of silo processes under load while one of them is killed with SIGKILL.</summary>
public sealed class RateLimitServiceProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ASiloKilledUnderLoad_TheOthersKeepAnswering_AndDecideAgainWithinSeconds()
    {
        var connectionString = await TestDatabase.CreateAsync("rls-process");
        var config = Directory.CreateTempSubdirectory("reliability-rls-process-");
        await File.WriteAllTextAsync(Path.Combine(config.FullName, "proc.yaml"),
            "domain: proc\ndescriptors:\n  - key: client\n    rate_limit: { unit: hour, requests_per_unit: 1000000 }\n");
        var logs = Path.Combine(Path.GetTempPath(), "reliability-test-logs", Guid.NewGuid().ToString("N"));
        await using var cluster = new LocalCluster(RepositoryPaths.SiloAssembly(), connectionString, logs, new Dictionary<string, string>
        {
            ["Logging:Format"] = "simple",
            ["RateLimitService:ConfigPath"] = config.FullName,
            // This test is about recovery after a kill, not the 15 ms budget: on a loaded two-core machine (70 % of
            // the CPU in the kernel, as seen on 2026-12-02) 3 % of checks missed 15 ms long after the cluster had
            // recovered, and only an unreachable subject should leave a check undecided here.
            ["RateLimitService:Timeout"] = "00:00:01",
        });
        var silos = Enumerable.Range(0, 3).Select(i => cluster.Start(LocalCluster.PlanEndpoint(i, preferDefaults: false))).ToList();
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await Task.WhenAll(silos.Select(s => cluster.WaitUntilReadyAsync(s, TimeSpan.FromSeconds(90), startup.Token)));
        using var channels = new ChannelSet(silos.Skip(1).Select(s => GrpcChannel.ForAddress(s.Endpoint.RlsUrl)));
        var clients = channels.Channels.Select(c => new RateLimitService.RateLimitServiceClient(c)).ToList();

        var clock = Stopwatch.StartNew();
        var killAt = TimeSpan.FromSeconds(3);
        var end = TimeSpan.FromSeconds(12);
        var outcomes = new List<(TimeSpan At, string Outcome)>();
        var killed = false;
        var loops = Enumerable.Range(0, 8).Select(async worker =>
        {
            var mine = new List<(TimeSpan, string)>();
            for (var i = 0; clock.Elapsed < end; i++)
            {
                var descriptor = new RateLimitDescriptor { Entries = { new RateLimitDescriptor.Types.Entry { Key = "client", Value = $"c{(worker * 31 + i) % 200}" } } };
                string outcome;
                try
                {
                    var answer = await clients[i % clients.Count].ShouldRateLimitAsync(
                        new RateLimitRequest { Domain = "proc", Descriptors = { descriptor } }, deadline: DateTime.UtcNow.AddSeconds(5));
                    var undecided = answer.DynamicMetadata?.Fields.ContainsKey(EnvoyRateLimitService.UndecidedField) == true;
                    outcome = undecided ? "undecided" : answer.Statuses[0].CurrentLimit is null ? "no limit" : answer.OverallCode == RateLimitResponse.Types.Code.Ok ? "ok" : "denied";
                }
                catch (RpcException ex)
                {
                    outcome = $"error {ex.StatusCode}";
                }

                mine.Add((clock.Elapsed, outcome));
            }

            return mine;
        }).ToList();
        while (clock.Elapsed < killAt)
        {
            await Task.Delay(50);
        }

        silos[0].Kill();
        killed = true;
        foreach (var mine in await Task.WhenAll(loops))
        {
            outcomes.AddRange(mine);
        }

        config.Delete(recursive: true);
        var summary = string.Join(", ", outcomes.GroupBy(o => o.Outcome).Select(g => $"{g.Key} {g.Count()}"));
        var afterRecovery = outcomes.Where(o => o.At > end - TimeSpan.FromSeconds(2)).ToList();
        output.WriteLine($"{summary}; in the last 2 s: {string.Join(", ", afterRecovery.GroupBy(o => o.Outcome).Select(g => $"{g.Key} {g.Count()}"))}");
        Assert.True(killed);
        Assert.DoesNotContain(outcomes, o => o.Outcome.StartsWith("error", StringComparison.Ordinal));
        // Every answer without a limit says it came from the failure mode.
        Assert.DoesNotContain(outcomes, o => o.Outcome is "denied" or "no limit");
        Assert.True(outcomes.Count(o => o.At < killAt && o.Outcome == "ok") > 100, summary);
        Assert.True(afterRecovery.Count > 100, summary);
        // A 15 ms budget on a loaded two-core machine can still miss now and then; the cluster as a whole has recovered.
        Assert.True(afterRecovery.Count(o => o.Outcome == "ok") >= afterRecovery.Count * 0.99, $"checks were not decided again 7 s after the kill: {summary}");
    }

    /// <summary>
    /// <c>failure_mode: deny</c>, with a silo frozen (SIGSTOP) so that some subjects cannot be decided: those
    /// checks answer OVER_LIMIT and say so, and what their other descriptors took, in time or late, is given back.
    /// </summary>
    [Fact]
    public async Task FailureModeDeny_AnswersOverLimit_AndGivesBackWhatTheUndecidedCheckTook()
    {
        var connectionString = await TestDatabase.CreateAsync("rls-deny");
        var config = Directory.CreateTempSubdirectory("reliability-rls-deny-");
        await File.WriteAllTextAsync(Path.Combine(config.FullName, "deny.yaml"), """
            domain: deny
            descriptors:
              - key: a
                rate_limit: { unit: hour, requests_per_unit: 5 }
              - key: b
                rate_limit: { unit: hour, requests_per_unit: 5 }
            """);
        var logs = Path.Combine(Path.GetTempPath(), "reliability-test-logs", Guid.NewGuid().ToString("N"));
        await using var cluster = new LocalCluster(RepositoryPaths.SiloAssembly(), connectionString, logs, new Dictionary<string, string>
        {
            ["Logging:Format"] = "simple",
            ["RateLimitService:ConfigPath"] = config.FullName,
            ["RateLimitService:FailureMode"] = "Deny",
            ["RateLimitService:Timeout"] = "00:00:00.300",
        });
        var silos = Enumerable.Range(0, 2).Select(i => cluster.Start(LocalCluster.PlanEndpoint(i, preferDefaults: false))).ToList();
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await Task.WhenAll(silos.Select(s => cluster.WaitUntilReadyAsync(s, TimeSpan.FromSeconds(90), startup.Token)));
        using var channel = GrpcChannel.ForAddress(silos[0].Endpoint.RlsUrl);
        var client = new RateLimitService.RateLimitServiceClient(channel);
        Task<RateLimitResponse> CheckAsync(params (string Key, string Value)[] descriptors) => client.ShouldRateLimitAsync(new RateLimitRequest
        {
            Domain = "deny",
            Descriptors = { descriptors.Select(d => new RateLimitDescriptor { Entries = { new RateLimitDescriptor.Types.Entry { Key = d.Key, Value = d.Value } } }) },
        }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync;

        // With the second silo frozen, the subjects whose grains or directory entries it holds cannot be decided.
        await silos[1].PauseAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => CheckAsync(("a", $"s{i}"), ("b", $"s{i}"))));
        await silos[1].ResumeAsync();
        config.Delete(recursive: true);

        var undecided = Enumerable.Range(0, answers.Length).Where(i => answers[i].DynamicMetadata?.Fields.ContainsKey(EnvoyRateLimitService.UndecidedField) == true).ToList();
        output.WriteLine($"{undecided.Count} of {answers.Length} checks undecided while a silo was frozen");
        Assert.NotEmpty(undecided);
        Assert.All(undecided, i =>
        {
            Assert.Equal(RateLimitResponse.Types.Code.OverLimit, answers[i].OverallCode);
            Assert.Equal("deny", answers[i].DynamicMetadata.Fields[EnvoyRateLimitService.UndecidedField].StringValue);
            Assert.All(answers[i].Statuses, s => Assert.Equal(RateLimitResponse.Types.Code.OverLimit, s.Code));
        });
        Assert.All(Enumerable.Range(0, answers.Length).Except(undecided), i => Assert.Equal(RateLimitResponse.Types.Code.Ok, answers[i].OverallCode));

        // Once the silo answers again (a fresh subject is decided) and the late decisions have had a moment to
        // arrive and be given back, a denied check has cost nothing: each bucket is full but for the next check.
        var settling = Stopwatch.StartNew();
        for (var probe = 0; (await CheckAsync(("a", $"probe{probe}"))).DynamicMetadata?.Fields.ContainsKey(EnvoyRateLimitService.UndecidedField) == true; probe++)
        {
            Assert.True(settling.Elapsed < TimeSpan.FromSeconds(30), "the cluster did not decide again within 30 s of the resume");
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
        var remaining = new Dictionary<string, uint>();
        foreach (var i in undecided)
        {
            foreach (var key in new[] { "a", "b" })
            {
                remaining[$"{key}=s{i}"] = (await CheckAsync((key, $"s{i}"))).Statuses[0].LimitRemaining;
            }
        }

        output.WriteLine(string.Join(", ", remaining.Select(r => $"{r.Key}: {r.Value} left")));
        Assert.All(remaining, r => Assert.Equal(4u, r.Value));
    }

    private sealed class ChannelSet(IEnumerable<GrpcChannel> channels) : IDisposable
    {
        public IReadOnlyList<GrpcChannel> Channels { get; } = channels.ToList();

        public void Dispose()
        {
            foreach (var channel in Channels)
            {
                channel.Dispose();
            }
        }
    }
}
