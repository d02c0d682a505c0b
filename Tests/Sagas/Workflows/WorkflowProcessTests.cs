using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Reliability.Client.Infrastructure;
using Reliability.Client.Sagas;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Sagas.Workflows;

/// <summary>Three silo processes and three participant processes: a silo is SIGKILLed under an HTTP workflow's saga.</summary>
public sealed class WorkflowProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private LocalCluster _cluster = null!;
    private ParticipantProcess _inventory = null!;
    private ParticipantProcess _payments = null!;
    private ParticipantProcess _shipping = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await TestDatabase.CreateAsync("workflow-process");
        var participants = await Task.WhenAll(ParticipantProcess.StartAsync("inventory"), ParticipantProcess.StartAsync("payments"), ParticipantProcess.StartAsync("shipping"));
        (_inventory, _payments, _shipping) = (participants[0], participants[1], participants[2]);
        var logs = Path.Combine(Path.GetTempPath(), "reliability-test-logs", Guid.NewGuid().ToString("N"));
        _cluster = new LocalCluster(RepositoryPaths.SiloAssembly(), connectionString, logs, new Dictionary<string, string>
        {
            ["Logging:Format"] = "simple",
            // The supervisor looks for sagas that stopped moving every 2 s; one quiet for StepTimeout + BackoffMax + 1 s is resumed.
            ["Sagas:KeepAlivePeriod"] = "00:00:02",
            ["Sagas:StepTimeout"] = "00:00:02",
            ["Sagas:BackoffMax"] = "00:00:01",
        });
        var silos = Enumerable.Range(0, 3).Select(i => _cluster.Start(LocalCluster.PlanEndpoint(i, preferDefaults: false))).ToList();
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await Task.WhenAll(silos.Select(s => _cluster.WaitUntilReadyAsync(s, TimeSpan.FromSeconds(90), startup.Token)));
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await Task.WhenAll(_inventory.DisposeAsync().AsTask(), _payments.DisposeAsync().AsTask(), _shipping.DisposeAsync().AsTask());
        _http.Dispose();
    }

    private string Definition(string name, string shipCompletion) => $$$"""
        {
          "inputSchema": {"type": "object", "required": ["orderId"], "properties": {"orderId": {"type": "string"} } },
          "steps": [
            {"name": "reserve", "action": {"url": "{{{_inventory.Address}}}/{{{name}}}/reserve", "body": {"order": "{{input.orderId}}"}},
             "compensation": {"url": "{{{_inventory.Address}}}/{{{name}}}/release"}},
            {"name": "charge", "action": {"url": "{{{_payments.Address}}}/{{{name}}}/charge", "body": {"order": "{{input.orderId}}"}},
             "compensation": {"url": "{{{_payments.Address}}}/{{{name}}}/refund"}},
            {"name": "ship", "pivot": true, "action": {"url": "{{{_shipping.Address}}}/{{{name}}}/ship", "body": {"order": "{{input.orderId}}"}},
             "timeout": "{{{(shipCompletion.Length > 0 ? "10m" : "1m")}}}", "retry": {"initialInterval": "100ms", "maxInterval": "1s"}{{{shipCompletion}}} }
          ]
        }
        """;

    private async Task<HttpResponseMessage> SendAsync(SiloProcess silo, HttpMethod method, string path, string body, string? key = null)
    {
        var request = new HttpRequestMessage(method, $"{silo.Endpoint.HttpUrl}{path}") { Content = new StringContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await _http.SendAsync(request);
    }

    /// <summary>The saga as any live silo answers it; right after a kill, calls to a grain that was on the dead silo fail for a few seconds, so it asks again.</summary>
    private async Task<JsonElement> SagaAsync(string sagaId)
    {
        for (var attempt = 0; ; attempt++)
        {
            foreach (var silo in _cluster.Silos.Where(s => !s.HasExited))
            {
                try
                {
                    return JsonDocument.Parse(await _http.GetStringAsync($"{silo.Endpoint.HttpUrl}/api/sagas/{sagaId}")).RootElement.Clone();
                }
                catch (Exception ex) when (attempt < 100 && ex is HttpRequestException or TaskCanceledException)
                {
                    // That silo could not answer now; ask another.
                }
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Registers the workflow, starts a saga on it, waits until <paramref name="until"/> holds, kills the silo the saga runs on, and waits for the end.</summary>
    private async Task<(JsonElement Saga, string Killed)> RunAndKillAsync(string name, string shipCompletion, Func<JsonElement, bool> until)
    {
        var first = _cluster.Silos.First(s => !s.HasExited);
        using (var put = await SendAsync(first, HttpMethod.Put, $"/api/admin/workflows/{name}", Definition(name, shipCompletion)))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        using var started = await SendAsync(first, HttpMethod.Post, $"/api/workflows/{name}/sagas", """{"orderId":"o-1"}""", key: $"start-{name}");
        var sagaId = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("sagaId").GetString()!;
        var saga = await SagaAsync(sagaId);
        for (var i = 0; i < 300 && !until(saga); i++)
        {
            await Task.Delay(50);
            saga = await SagaAsync(sagaId);
        }

        Assert.True(until(saga), "the saga never reached the point to kill its silo at");
        var silo = saga.GetProperty("history").EnumerateArray().Last().GetProperty("silo").GetString()!;
        _cluster.Silos.Single(s => s.Endpoint.Name == silo).Kill();
        for (var i = 0; i < 600 && saga.GetProperty("status").GetString() is "Running" or "Compensating"; i++)
        {
            await Task.Delay(100);
            saga = await SagaAsync(sagaId);
        }

        output.WriteLine($"killed {silo}");
        output.WriteLine(string.Join(Environment.NewLine, saga.GetProperty("history").EnumerateArray().Select(h => h.ToString())));
        return (saga, silo);
    }

    private static bool ShipIs(JsonElement saga, string outcome) =>
        saga.GetProperty("history").EnumerateArray().Any(h => h.GetProperty("stepName").GetString() == "ship" && h.GetProperty("outcome").GetString() == outcome);

    [Fact]
    public async Task ASiloKilledWhileAStepsCallIsInFlight_AndWhileAStepWaitsForItsCallback_ResumesElsewhere_AndEveryEffectIsApplidOnce()
    {
        // The participant commits, then takes 4 s to answer: the silo is killed meanwhile.
        await _shipping.FaultsAsync(new Dictionary<string, PathFaults>
        {
            ["/inflight/ship"] = new(DelayTimes: 1, DelayMs: 4000),
            ["/waiting/ship"] = new(Accept: "callback", CompleteAfterMs: 2000),
        });

        var (inFlight, killedFirst) = await RunAndKillAsync("inflight", "", s => ShipIs(s, "started"));
        // The callback goes to the silo that made the call, which is killed before it comes: the saga, resumed elsewhere,
        // sends the call again (same key, new token, its own address), and the participant calls back there. The step
        // may wait 10 minutes, so a saga that only waited out its deadline would not finish within this test's minute.
        var (waiting, killedSecond) = await RunAndKillAsync("waiting", """, "completion": "callback" """, s => ShipIs(s, "accepted"));

        foreach (var (saga, killed) in new[] { (inFlight, killedFirst), (waiting, killedSecond) })
        {
            var sagaId = saga.GetProperty("sagaId").GetString()!;
            Assert.Equal("Completed", saga.GetProperty("status").GetString());
            Assert.Contains(saga.GetProperty("history").EnumerateArray(), h => h.GetProperty("stepName").GetString() == "ship"
                && h.GetProperty("outcome").GetString() == "succeeded" && h.GetProperty("silo").GetString() != killed);
            foreach (var (participant, step) in new[] { (_inventory, "reserve"), (_payments, "charge"), (_shipping, "ship") })
            {
                var action = (await participant.EffectsAsync()).Actions[$"{sagaId}/{step}/action"];
                Assert.True(action is { Applied: true, Undone: false }, $"{step} of {sagaId}: {action}");
            }
        }

        var resent = (await _shipping.EffectsAsync()).Actions[$"{waiting.GetProperty("sagaId").GetString()}/ship/action"];
        Assert.True(resent.Received >= 2, $"the waiting call was sent {resent.Received} time(s)");
        Assert.True(resent.Finished);
    }
}
