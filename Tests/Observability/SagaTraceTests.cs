using System.Diagnostics;
using Reliability.Infrastructure;
using Reliability.Sagas;
using Reliability.Services;
using Reliability.Tests.Infrastructure;
using Reliability.Tests.Sagas;
using Xunit.Abstractions;

namespace Reliability.Tests.Observability;

/// <summary>The spans of one saga, collected in process, while the silo running it is killed mid-step.</summary>
public sealed class SagaTraceTests(ITestOutputHelper output)
{
    private const string RequestSourceName = "Reliability.Tests.Requests";
    private static readonly ActivitySource RequestSource = new(RequestSourceName);

    [Fact]
    public async Task ASagaWhoseSiloIsKilledMidStep_IsOneTrace_EveryStepAChildOfTheRequestThatStartedIt()
    {
        using var spans = new SpanCollector(ToolkitTelemetry.Sagas, RequestSourceName);

        var options = SagaClusterFixture.FastOptions();
        options.Faults["record-payment"] = new StepFaults { Delay = TimeSpan.FromSeconds(1.5) };
        var (cluster, _) = await TestClusters.StartAsync("saga-trace", sagas: options);
        await using var _ = cluster;
        await cluster.Client.GetGrain<IAccountGrain>("alice").Open("open", 100m);
        await cluster.Client.GetGrain<IAccountGrain>("bob").Open("open", 0m);
        var saga = cluster.Client.GetGrain<ISagaGrain>("transfer-tr1");

        ActivityTraceId trace;
        using (var started = RequestSource.StartActivity("POST /api/transfers", ActivityKind.Server)!)
        {
            trace = started.TraceId;
            await saga.StartWorkflow(SagaDefinitions.Transfer("tr1", "alice", "bob", 30m));
        }

        while ((await saga.Get())!.History.All(h => h.StepName != "record-payment"))
        {
            await Task.Delay(20);
        }

        var killed = cluster.HostOf(saga);
        await cluster.KillSiloAsync(killed);
        var finished = await new SagaWaiter(cluster.Client).WaitAsync("transfer-tr1", TimeSpan.FromSeconds(60));

        var all = spans.Spans;
        var steps = all.Where(s => s.OperationName.StartsWith("saga step ", StringComparison.Ordinal) && (string?)s.GetTagItem("saga.id") == "transfer-tr1").ToList();
        output.WriteLine(string.Join(Environment.NewLine, steps.Select(s =>
            $"{s.StartTimeUtc:HH:mm:ss.fff} {s.OperationName} on {s.GetTagItem("orleans.silo")}: trace {s.TraceId}, parent {s.ParentSpanId}, {s.GetTagItem("saga.outcome")}")));
        Assert.Equal(SagaStatus.Completed, finished.Status);
        Assert.Equal(["debit", "record-payment", "credit"], steps.OrderBy(s => s.StartTimeUtc).Select(s => s.OperationName["saga step ".Length..]).Distinct());
        Assert.All(steps, s => Assert.Equal(trace, s.TraceId));

        // Every step's parent is the one span the saga stored at Start: the grain call made by the request
        // (the silo's server span, whose parent is the client's span for the call, whose parent is the request).
        var startCall = Assert.Single(steps.Select(s => s.ParentSpanId).Distinct());
        var byId = all.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        var chain = new List<string>();
        for (var id = startCall; byId.TryGetValue(id, out var span) && chain.Count < 10; id = span.ParentSpanId)
        {
            chain.Add($"{span.Source.Name}: {span.OperationName}");
        }

        output.WriteLine($"above the steps: {string.Join(" <- ", chain)}");
        Assert.Equal(GrainCallTracing.SourceName, byId[startCall].Source.Name);
        Assert.Equal("ISagaGrain/StartWorkflow", byId[startCall].OperationName);
        Assert.Equal($"{RequestSourceName}: POST /api/transfers", chain[^1]);
        // The steps after the kill ran on another silo, and still belong to the same tree.
        var silos = steps.Select(s => (string?)s.GetTagItem("orleans.silo")).Distinct().ToList();
        Assert.True(silos.Count >= 2, $"every step ran on {string.Join(", ", silos)}");
        // The accounts were opened outside any trace: those calls started no span (none to create and drop per call).
        Assert.DoesNotContain(all, s => s.Source.Name == GrainCallTracing.SourceName && s.OperationName == "IAccountGrain/Open");
        Assert.Contains(all, s => s.Source.Name == GrainCallTracing.SourceName && s.OperationName.StartsWith("IAccountGrain/", StringComparison.Ordinal) && s.TraceId == trace);
    }
}
