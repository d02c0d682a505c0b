using System.Net.Http.Headers;
using System.Text.Json;
using Reliability.Client.Sagas;
using Reliability.Silo.Http.Idempotency;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Sagas.Workflows;

/// <summary>
/// Random failure schedules at three real participants: whatever each call meets (503s, a commit that answers
/// too late, a rejection, failing compensations), each saga ends with all of its actions in effect, or none.
/// </summary>
[Collection(SiloHostCollection.Name)]
public sealed class WorkflowPropertyTests(SiloHostFixture silo, ParticipantsFixture participants, ITestOutputHelper output) : IClassFixture<ParticipantsFixture>
{
    private const int Cases = 24;

    private static readonly string[] Steps = ["reserve", "charge", "ship"];

    private string Definition(string name) => $$$"""
        {
          "inputSchema": {"type": "object", "required": ["case"], "properties": {"case": {"type": "string"} } },
          "steps": [
            {"name": "reserve", "action": {"url": "{{{participants.Inventory.Address}}}/{{input.case}}/reserve"},
             "compensation": {"url": "{{{participants.Inventory.Address}}}/{{input.case}}/reserve-undo"},
             "retry": {"maxAttempts": 3, "initialInterval": "10ms", "maxInterval": "50ms"}, "timeout": "300ms"},
            {"name": "charge", "action": {"url": "{{{participants.Payments.Address}}}/{{input.case}}/charge"},
             "compensation": {"url": "{{{participants.Payments.Address}}}/{{input.case}}/charge-undo"},
             "retry": {"maxAttempts": 3, "initialInterval": "10ms", "maxInterval": "50ms"}, "timeout": "300ms"},
            {"name": "ship", "pivot": true, "action": {"url": "{{{participants.Shipping.Address}}}/{{input.case}}/ship"},
             "retry": {"maxAttempts": 3, "initialInterval": "10ms", "maxInterval": "50ms"}, "timeout": "300ms"}
          ]
        }
        """;

    /// <summary>What one call meets: nothing, n × 503 (more than its attempts, sometimes), a late answer after the commit, or a rejection.</summary>
    private static PathFaults? Draw(Random random, bool compensation) => random.Next(compensation ? 3 : 5) switch
    {
        0 => null,
        1 => new PathFaults(FailTimes: random.Next(1, 5), FailStatus: random.Next(2) == 0 ? 503 : 429),
        2 => new PathFaults(DelayTimes: 1, DelayMs: 600),
        3 => new PathFaults(RejectStatus: 409),
        _ => new PathFaults(FailTimes: 1, DelayTimes: 1, DelayMs: 600),
    };

    private static string Describe(PathFaults fault) => string.Join("+", new[]
    {
        fault.FailTimes > 0 ? $"{fault.FailStatus}×{fault.FailTimes}" : null,
        fault.DelayTimes > 0 ? $"late {fault.DelayMs} ms" : null,
        fault.RejectStatus > 0 ? $"rejects {fault.RejectStatus}" : null,
    }.OfType<string>());

    [Fact]
    public async Task UnderRandomFailureSchedules_EverySagaEndsWithAllItsActionsInEffect_OrNone()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var run = Guid.NewGuid().ToString("N")[..8];
        var name = $"wf-property-{run}";
        var faults = new[] { new Dictionary<string, PathFaults>(), new Dictionary<string, PathFaults>(), new Dictionary<string, PathFaults>() };
        var schedules = new List<string>();
        for (var c = 0; c < Cases; c++)
        {
            var schedule = new List<string>();
            for (var s = 0; s < Steps.Length; s++)
            {
                foreach (var (suffix, compensation) in new[] { ("", false), ("-undo", true) })
                {
                    if (Draw(random, compensation) is { } fault)
                    {
                        faults[s][$"/{run}-{c}/{Steps[s]}{suffix}"] = fault;
                        schedule.Add($"{Steps[s]}{suffix} {Describe(fault)}");
                    }
                }
            }

            schedules.Add(string.Join("; ", schedule));
        }

        await Task.WhenAll(participants.Inventory.FaultsAsync(faults[0]), participants.Payments.FaultsAsync(faults[1]), participants.Shipping.FaultsAsync(faults[2]));
        var put = silo.Request(HttpMethod.Put, $"/api/admin/workflows/{name}", admin: true);
        put.Content = new StringContent(Definition(name), MediaTypeHeaderValue.Parse("application/json"));
        Assert.True((await silo.Http.SendAsync(put)).IsSuccessStatusCode);

        var sagas = await Task.WhenAll(Enumerable.Range(0, Cases).Select(async c =>
        {
            var request = silo.Request(HttpMethod.Post, $"/api/workflows/{name}/sagas", $$"""{"case":"{{run}}-{{c}}"}""", apiKey: $"property-{run}");
            request.Headers.Add(IdempotencyGuard.HeaderName, $"case-{c}");
            request.Headers.Add("Prefer", "wait=60");
            using var response = await silo.Silos[c % silo.Silos.Count].SendAsync(request);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        }));

        var effects = await Task.WhenAll(participants.Inventory.EffectsAsync(), participants.Payments.EffectsAsync(), participants.Shipping.EffectsAsync());
        for (var c = 0; c < Cases; c++)
        {
            var saga = sagas[c];
            var sagaId = saga.GetProperty("sagaId").GetString()!;
            var status = saga.GetProperty("status").GetString();
            // In effect: applied and not undone. A call that never took effect but was compensated anyway is fine.
            var inEffect = Enumerable.Range(0, Steps.Length)
                .Select(s => effects[s].Actions.TryGetValue($"{sagaId}/{Steps[s]}/action", out var a) && a.Applied && !a.Undone)
                .ToList();
            var described = $"case {c} ({schedules[c]}): {status}, in effect {string.Join(",", inEffect)}";
            output.WriteLine(described);
            Assert.True(status is "Completed" or "Compensated", described);
            Assert.True(status == "Completed" ? inEffect.All(e => e) : inEffect.All(e => !e), described);
        }
    }
}
