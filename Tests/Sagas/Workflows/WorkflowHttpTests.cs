using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Reliability.Client.Infrastructure;
using Reliability.Client.Sagas;
using Reliability.Silo.Http.Idempotency;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Sagas.Workflows;

/// <summary>Three participant services, each a process of its own with its own store, for the workflow tests.</summary>
public sealed class ParticipantsFixture : IAsyncLifetime
{
    public ParticipantProcess Inventory { get; private set; } = null!;

    public ParticipantProcess Payments { get; private set; } = null!;

    public ParticipantProcess Shipping { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var started = await Task.WhenAll(ParticipantProcess.StartAsync("inventory"), ParticipantProcess.StartAsync("payments"), ParticipantProcess.StartAsync("shipping"));
        (Inventory, Payments, Shipping) = (started[0], started[1], started[2]);
    }

    public async Task DisposeAsync()
    {
        await Inventory.DisposeAsync();
        await Payments.DisposeAsync();
        await Shipping.DisposeAsync();
    }
}

[Collection(SiloHostCollection.Name)]
public sealed class WorkflowHttpTests(SiloHostFixture silo, ParticipantsFixture participants) : IClassFixture<ParticipantsFixture>
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..10];

    /// <summary>reserve (compensated) → charge (compensated) → ship (the pivot), each on its participant; paths carry the run, so faults aim at one test.</summary>
    private string Order(string name, string? shipTimeout = null, string chargePath = "charges", string? shipCompletion = null, string chargeExtra = "") => $$$"""
        {
          "name": "{{{name}}}",
          "inputSchema": {
            "type": "object",
            "required": ["orderId", "amount"],
            "properties": {"orderId": {"type": "string", "minLength": 1}, "amount": {"type": "number", "exclusiveMinimum": 0}}
          },
          "steps": [
            {
              "name": "reserve",
              "action": {"url": "{{{participants.Inventory.Address}}}/{{{_run}}}/reservations", "body": {"order": "{{input.orderId}}"}},
              "compensation": {"url": "{{{participants.Inventory.Address}}}/{{{_run}}}/reservations/release", "body": {"order": "{{input.orderId}}"}},
              "retry": {"initialInterval": "20ms", "maxInterval": "200ms"}
            },
            {
              "name": "charge",
              "action": {"url": "{{{participants.Payments.Address}}}/{{{_run}}}/{{{chargePath}}}",
                         "body": {"amount": "{{input.amount}}", "reservation": "{{steps.reserve.response.body.id}}"}},
              "compensation": {"url": "{{{participants.Payments.Address}}}/{{{_run}}}/refunds", "body": {"amount": "{{input.amount}}"}},
              "retry": {"initialInterval": "20ms", "maxInterval": "200ms"}{{{chargeExtra}}}
            },
            {
              "name": "ship",
              "pivot": true,
              "action": {"method": "PUT", "url": "{{{participants.Shipping.Address}}}/{{{_run}}}/shipments/{{input.orderId}}",
                         "body": {"charge": "{{steps.charge.response.body.id}}"}},
              "retry": {"maxAttempts": 3, "initialInterval": "20ms", "maxInterval": "200ms"}{{{(shipTimeout is null ? "" : $", \"timeout\": \"{shipTimeout}\"")}}}{{{(shipCompletion is null ? "" : $", \"completion\": {shipCompletion}")}}}
            }
          ]
        }
        """;

    private string Name(string what) => $"wf-{what}-{_run}";

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpRequestMessage request)
    {
        using var response = await silo.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private Task<(HttpStatusCode Status, JsonElement Body)> RegisterAsync(string name, string document, string contentType = "application/json")
    {
        var request = silo.Request(HttpMethod.Put, $"/api/admin/workflows/{name}", admin: true);
        request.Content = new StringContent(document);
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return SendAsync(request);
    }

    /// <summary>Keys are scoped per caller (API key): a replay needs both the same.</summary>
    private Task<(HttpStatusCode Status, JsonElement Body)> StartAsync(string name, string input, string? key = null, int waitSeconds = 20)
    {
        var request = silo.Request(HttpMethod.Post, $"/api/workflows/{name}/sagas", input, apiKey: $"workflows-{_run}");
        request.Headers.Add(IdempotencyGuard.HeaderName, key ?? Guid.NewGuid().ToString("N"));
        if (waitSeconds > 0)
        {
            request.Headers.Add("Prefer", $"wait={waitSeconds}");
        }

        return SendAsync(request);
    }

    private async Task<JsonElement> SagaAsync(string sagaId) => (await SendAsync(silo.Request(HttpMethod.Get, $"/api/sagas/{sagaId}"))).Body;

    private async Task<JsonElement> WaitTerminalAsync(string sagaId)
    {
        for (var i = 0; i < 200; i++)
        {
            var saga = await SagaAsync(sagaId);
            if (saga.GetProperty("status").GetString() is "Completed" or "Compensated" or "Failed")
            {
                return saga;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Saga {sagaId} did not end.");
    }

    private static ParticipantAction Action(ParticipantEffects effects, string sagaId, string step) =>
        effects.Actions[$"{sagaId}/{step}/action"];

    [Fact]
    public async Task AWorkflow_RunsItsStepsOverHttp_WithOneKeyPerCall_ATraceparent_AndTemplatesReadingEarlierAnswers()
    {
        var name = Name("happy");
        var (registered, registration) = await RegisterAsync(name, Order(name));
        Assert.Equal(HttpStatusCode.Created, registered);
        Assert.Equal(1, registration.GetProperty("version").GetInt32());

        var (status, saga) = await StartAsync(name, """{"orderId":"o-1","amount":25.5}""");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("Completed", saga.GetProperty("status").GetString());
        Assert.Equal(1, saga.GetProperty("workflowVersion").GetInt32());
        var sagaId = saga.GetProperty("sagaId").GetString()!;
        var reserve = Action(await participants.Inventory.EffectsAsync(), sagaId, "reserve");
        var charge = Action(await participants.Payments.EffectsAsync(), sagaId, "charge");
        var ship = Action(await participants.Shipping.EffectsAsync(), sagaId, "ship");
        Assert.All([reserve, charge, ship], a => Assert.True(a is { Applied: true, Undone: false, Received: 1 }));
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", charge.TraceParent);
        var charged = charge.Answer!.Value.GetProperty("request");
        Assert.Equal(25.5m, charged.GetProperty("amount").GetDecimal());
        Assert.Equal(reserve.Answer!.Value.GetProperty("id").GetString(), charged.GetProperty("reservation").GetString());
        Assert.Equal($"/{_run}/shipments/o-1", ship.Path);
        Assert.Equal(charge.Answer!.Value.GetProperty("id").GetString(), ship.Answer!.Value.GetProperty("request").GetProperty("charge").GetString());
        var calls = saga.GetProperty("history").EnumerateArray().Where(h => h.TryGetProperty("call", out var c) && c.ValueKind == JsonValueKind.Object).ToList();
        Assert.Equal(3, calls.Count);
        Assert.Equal([201, 201, 201], calls.Select(c => c.GetProperty("call").GetProperty("status").GetInt32()));
        Assert.EndsWith($"/{_run}/shipments/o-1", calls[2].GetProperty("call").GetProperty("url").GetString());
    }

    [Fact]
    public async Task AParticipantAnswering503Twice_IsRetriedWithTheSameKey_AndAppliesTheChargeOnce()
    {
        var name = Name("flaky");
        await RegisterAsync(name, Order(name));
        await participants.Payments.FaultsAsync(new Dictionary<string, PathFaults> { [$"/{_run}/charges"] = new(FailTimes: 2, FailStatus: 503) });

        var (status, saga) = await StartAsync(name, """{"orderId":"o-2","amount":10}""");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("Completed", saga.GetProperty("status").GetString());
        var charge = Action(await participants.Payments.EffectsAsync(), saga.GetProperty("sagaId").GetString()!, "charge");
        Assert.Equal((true, 3), (charge.Applied, charge.Received));
        var statuses = saga.GetProperty("history").EnumerateArray()
            .Where(h => h.GetProperty("stepName").GetString() == "charge" && h.TryGetProperty("call", out var c) && c.ValueKind == JsonValueKind.Object)
            .Select(h => (h.GetProperty("attempt").GetInt32(), h.GetProperty("call").GetProperty("status").GetInt32())).ToList();
        Assert.Equal([(1, 503), (2, 503), (3, 201)], statuses);
    }

    [Fact]
    public async Task ARejection_CompensatesTheStepsBeforeItInReverse_AndEachUndoIsAppliedOnce()
    {
        var name = Name("reject");
        await RegisterAsync(name, Order(name));
        await participants.Shipping.FaultsAsync(new Dictionary<string, PathFaults> { [$"/{_run}/shipments/o-3"] = new(RejectStatus: 422) });

        var (status, saga) = await StartAsync(name, """{"orderId":"o-3","amount":10}""");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("Compensated", saga.GetProperty("status").GetString());
        var sagaId = saga.GetProperty("sagaId").GetString()!;
        var reserve = Action(await participants.Inventory.EffectsAsync(), sagaId, "reserve");
        var charge = Action(await participants.Payments.EffectsAsync(), sagaId, "charge");
        Assert.True(reserve is { Applied: true, Undone: true, CompensationsReceived: 1 });
        Assert.True(charge is { Applied: true, Undone: true, CompensationsReceived: 1 });
        Assert.False((await participants.Shipping.EffectsAsync()).Actions.GetValueOrDefault($"{sagaId}/ship/action")?.Applied ?? false);
        var undone = saga.GetProperty("history").EnumerateArray()
            .Where(h => h.GetProperty("compensation").GetBoolean() && h.GetProperty("outcome").GetString() == "succeeded")
            .Select(h => h.GetProperty("stepName").GetString()).ToList();
        Assert.Equal(["charge", "reserve"], undone);
        Assert.Contains("422", saga.GetProperty("failureReason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AParticipantThatCommitsAndThenTimesOut_IsAskedAgainWithTheSameKey_AndAppliesOnce()
    {
        var name = Name("slow");
        await RegisterAsync(name, Order(name, shipTimeout: "300ms"));
        await participants.Shipping.FaultsAsync(new Dictionary<string, PathFaults> { [$"/{_run}/shipments/o-4"] = new(DelayTimes: 1, DelayMs: 2000) });

        var (status, saga) = await StartAsync(name, """{"orderId":"o-4","amount":10}""");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("Completed", saga.GetProperty("status").GetString());
        var ship = Action(await participants.Shipping.EffectsAsync(), saga.GetProperty("sagaId").GetString()!, "ship");
        Assert.Equal((true, 2), (ship.Applied, ship.Received));
        Assert.Contains(saga.GetProperty("history").EnumerateArray(), h => h.GetProperty("detail").GetString()?.Contains("no answer within 0.3 s", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task AParticipantAnswering202_IsPolledAtItsLocation_UntilItFinishes()
    {
        var name = Name("poll");
        await RegisterAsync(name, Order(name, shipCompletion: """{"mode": "poll", "pollInterval": "100ms"}"""));
        await participants.Shipping.FaultsAsync(new Dictionary<string, PathFaults> { [$"/{_run}/shipments/o-9"] = new(Accept: "poll", CompleteAfterMs: 700) });

        var (status, saga) = await StartAsync(name, """{"orderId":"o-9","amount":2}""");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("Completed", saga.GetProperty("status").GetString());
        var ship = Action(await participants.Shipping.EffectsAsync(), saga.GetProperty("sagaId").GetString()!, "ship");
        Assert.Equal((true, true, 1), (ship.Applied, ship.Finished, ship.Received));
        var outcomes = saga.GetProperty("history").EnumerateArray().Where(h => h.GetProperty("stepName").GetString() == "ship")
            .Select(h => h.GetProperty("outcome").GetString()).ToList();
        Assert.Equal(["started", "accepted", "succeeded"], outcomes);
    }

    [Fact]
    public async Task AParticipantAnswering202_CompletesTheStepByCallingBack_WithItsOneTimeToken()
    {
        var name = Name("callback");
        await RegisterAsync(name, Order(name, shipTimeout: "1m", shipCompletion: "\"callback\""));
        await participants.Shipping.FaultsAsync(new Dictionary<string, PathFaults> { [$"/{_run}/shipments/o-10"] = new(Accept: "callback", CompleteAfterMs: 500) });

        var (status, saga) = await StartAsync(name, """{"orderId":"o-10","amount":2}""");
        var sagaId = saga.GetProperty("sagaId").GetString()!;
        var (again, _) = await SendAsync(silo.Request(HttpMethod.Post, $"/api/sagas/{sagaId}/steps/ship/complete", """{"token":"guess","outcome":"succeeded"}"""));

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("Completed", saga.GetProperty("status").GetString());
        var ship = Action(await participants.Shipping.EffectsAsync(), sagaId, "ship");
        Assert.Equal((true, true, 1, 1), (ship.Applied, ship.Finished, ship.Received, ship.Callbacks));
        Assert.Contains(saga.GetProperty("history").EnumerateArray(), h => h.GetProperty("detail").GetString() == "completed by the participant's callback");
        Assert.Equal(HttpStatusCode.Conflict, again);
    }

    [Fact]
    public async Task ACallbackWithTheWrongToken_IsRefused_AndTheStepKeepsWaiting()
    {
        var name = Name("token");
        await RegisterAsync(name, Order(name, shipTimeout: "1m", shipCompletion: "\"callback\""));
        await participants.Shipping.FaultsAsync(new Dictionary<string, PathFaults> { [$"/{_run}/shipments/o-11"] = new(Accept: "callback", CompleteAfterMs: 2500) });

        var (status, saga) = await StartAsync(name, """{"orderId":"o-11","amount":2}""", waitSeconds: 1);
        var sagaId = saga.GetProperty("sagaId").GetString()!;
        var (wrong, _) = await SendAsync(silo.Request(HttpMethod.Post, $"/api/sagas/{sagaId}/steps/ship/complete", """{"token":"guess","outcome":"rejected","reason":"forged"}"""));
        var (otherStep, _) = await SendAsync(silo.Request(HttpMethod.Post, $"/api/sagas/{sagaId}/steps/charge/complete", """{"token":"guess"}"""));
        var ended = await WaitTerminalAsync(sagaId);

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(HttpStatusCode.Forbidden, wrong);
        Assert.Equal(HttpStatusCode.Conflict, otherStep);
        Assert.Equal("Completed", ended.GetProperty("status").GetString());
    }

    [Fact]
    public async Task OneKey_StartsOneSaga_AndTheParticipantsSeeItOnce()
    {
        var name = Name("once");
        await RegisterAsync(name, Order(name));
        var key = Guid.NewGuid().ToString("N");

        var (first, saga) = await StartAsync(name, """{"orderId":"o-5","amount":3}""", key);
        var (again, replay) = await StartAsync(name, """{"orderId":"o-5","amount":3}""", key);

        Assert.Equal(HttpStatusCode.Created, first);
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(saga.GetProperty("sagaId").GetString(), replay.GetProperty("sagaId").GetString());
        Assert.Equal(1, Action(await participants.Inventory.EffectsAsync(), saga.GetProperty("sagaId").GetString()!, "reserve").Received);
    }

    [Fact]
    public async Task ARunningSaga_KeepsItsVersion_ANewVersionAppliesToNewSagas_AndAVersionInUseCannotBeDeleted()
    {
        var name = Name("versions");
        await RegisterAsync(name, Order(name));
        await participants.Shipping.FaultsAsync(new Dictionary<string, PathFaults> { [$"/{_run}/shipments/o-6"] = new(DelayTimes: 1, DelayMs: 2500) });
        var (started, running) = await StartAsync(name, """{"orderId":"o-6","amount":1}""", waitSeconds: 0);
        Assert.Equal(HttpStatusCode.Accepted, started);
        var first = running.GetProperty("sagaId").GetString()!;

        var (registered, v2) = await RegisterAsync(name, Order(name, chargePath: "charges-v2"));
        var (refused, inUse) = await SendAsync(silo.Request(HttpMethod.Delete, $"/api/admin/workflows/{name}/versions/1", admin: true));
        var (_, second) = await StartAsync(name, """{"orderId":"o-7","amount":1}""");
        var ended = await WaitTerminalAsync(first);
        var (deleted, _) = await SendAsync(silo.Request(HttpMethod.Delete, $"/api/admin/workflows/{name}/versions/1", admin: true));
        var (_, listed) = await SendAsync(silo.Request(HttpMethod.Get, $"/api/workflows/{name}"));

        Assert.Equal((HttpStatusCode.Created, 2), (registered, v2.GetProperty("version").GetInt32()));
        Assert.Equal(HttpStatusCode.Conflict, refused);
        Assert.Equal(1, inUse.GetProperty("sagas").GetInt32());
        Assert.Equal(("Completed", 1), (ended.GetProperty("status").GetString(), ended.GetProperty("workflowVersion").GetInt32()));
        Assert.Equal($"/{_run}/charges", Action(await participants.Payments.EffectsAsync(), first, "charge").Path);
        Assert.Equal(2, second.GetProperty("workflowVersion").GetInt32());
        Assert.Equal($"/{_run}/charges-v2", Action(await participants.Payments.EffectsAsync(), second.GetProperty("sagaId").GetString()!, "charge").Path);
        Assert.Equal(HttpStatusCode.NoContent, deleted);
        Assert.Equal(2, listed.GetProperty("latestVersion").GetInt32());
        Assert.Contains(listed.GetProperty("versions").EnumerateArray(), v => v.GetProperty("version").GetInt32() == 1 && v.GetProperty("deletedAt").ValueKind == JsonValueKind.String);
    }

    [Fact]
    public async Task Registering_TheSameDocumentAgain_AnswersItsVersion_AndAStaleVersionIs409()
    {
        var name = Name("again");
        var (created, _) = await RegisterAsync(name, Order(name));
        var (same, sameBody) = await RegisterAsync(name, Order(name));
        var stale = Order(name, chargePath: "other").Replace($"\"name\": \"{name}\",", $"\"name\": \"{name}\", \"version\": 1,", StringComparison.Ordinal);
        var (conflict, problem) = await RegisterAsync(name, stale);

        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal((HttpStatusCode.OK, 1, false), (same, sameBody.GetProperty("version").GetInt32(), sameBody.GetProperty("created").GetBoolean()));
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Equal(1, problem.GetProperty("latestVersion").GetInt32());
    }

    [Fact]
    public async Task AnInvalidDefinition_Is400_NamingEachPath_AndRegistersNothing()
    {
        var name = Name("bad");
        var document = Order(name).Replace("\"method\": \"PUT\"", "\"method\": \"PUT\", \"verb\": 1", StringComparison.Ordinal)
            .Replace("{{input.orderId}}\"}}", "{{input.nothing}}\"}}", StringComparison.Ordinal);

        var (status, problem) = await RegisterAsync(name, document);
        var (missing, _) = await SendAsync(silo.Request(HttpMethod.Get, $"/api/workflows/{name}"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var paths = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()).ToList();
        Assert.Contains("steps[2].action.verb", paths);
        Assert.Contains("steps[0].action.body.order", paths);
        Assert.Equal(HttpStatusCode.NotFound, missing);
    }

    [Fact]
    public async Task AYamlDefinition_RegistersAndRuns()
    {
        var name = Name("yaml");
        var yaml = $$$"""
            name: {{{name}}}
            inputSchema:
              type: object
              required: [id]
              properties:
                id: {type: string}
            steps:
              - name: only
                action:
                  url: "{{{participants.Inventory.Address}}}/{{{_run}}}/yaml/{{input.id}}"
            """;

        var (registered, _) = await RegisterAsync(name, yaml, "application/yaml");
        var (status, saga) = await StartAsync(name, """{"id":"y1"}""");

        Assert.Equal(HttpStatusCode.Created, registered);
        Assert.Equal((HttpStatusCode.Created, "Completed"), (status, saga.GetProperty("status").GetString()));
        Assert.Equal($"/{_run}/yaml/y1", Action(await participants.Inventory.EffectsAsync(), saga.GetProperty("sagaId").GetString()!, "only").Path);
    }

    [Theory]
    [InlineData("""{"orderId":"o-8"}""", "input")]
    [InlineData("""{"orderId":"o-8","amount":-1}""", "input.amount")]
    [InlineData("""{"orderId":"","amount":1}""", "input.orderId")]
    public async Task InputThatDoesNotMatchTheSchema_Is400_NamingTheField_AndStartsNothing(string input, string field)
    {
        var name = Name("schema");
        await RegisterAsync(name, Order(name));
        var before = (await participants.Inventory.EffectsAsync()).Actions.Count;

        var (status, problem) = await StartAsync(name, input);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(field, problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(before, (await participants.Inventory.EffectsAsync()).Actions.Count);
    }

    [Fact]
    public async Task StartingAnUnknownWorkflow_Is404_AndABuiltInNameCannotBeRegistered()
    {
        var (missing, _) = await StartAsync(Name("nobody"), "{}");
        var (builtIn, _) = await RegisterAsync("transfer", Order("transfer"));

        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal(HttpStatusCode.Conflict, builtIn);
    }

    [Fact]
    public async Task TheList_ShowsTheBuiltInWorkflowsAsDefinitions_BesideRegisteredOnes()
    {
        var name = Name("listed");
        await RegisterAsync(name, Order(name));

        var (status, list) = await SendAsync(silo.Request(HttpMethod.Get, "/api/workflows"));
        var (_, transfer) = await SendAsync(silo.Request(HttpMethod.Get, "/api/workflows/transfer"));

        Assert.Equal(HttpStatusCode.OK, status);
        var workflows = list.GetProperty("workflows").EnumerateArray().ToDictionary(w => w.GetProperty("name").GetString()!);
        Assert.True(workflows["transfer"].GetProperty("builtIn").GetBoolean());
        Assert.True(workflows["place-order"].GetProperty("builtIn").GetBoolean());
        Assert.Equal((false, 1), (workflows[name].GetProperty("builtIn").GetBoolean(), workflows[name].GetProperty("latestVersion").GetInt32()));
        Assert.Equal("debit-account", transfer.GetProperty("document").GetProperty("steps")[0].GetProperty("action").GetProperty("service").GetString());
    }

    [Fact]
    public async Task AnOperator_CancelsASagaWhileAStepWaits_AndRetriesOneParkedByAFailingCompensation()
    {
        var name = Name("operate");
        await RegisterAsync(name, Order(name, chargeExtra: """, "completion": "callback", "timeout": "5m" """));
        await participants.Payments.FaultsAsync(new Dictionary<string, PathFaults>
        {
            [$"/{_run}/charges"] = new(Accept: "callback", CompleteAfterMs: 60_000),
            [$"/{_run}/refunds"] = new(FailTimes: 1000),
        });

        var (_, waiting) = await StartAsync(name, """{"orderId":"o-12","amount":5}""", waitSeconds: 1);
        var sagaId = waiting.GetProperty("sagaId").GetString()!;
        var (cancelled, _) = await SendAsync(silo.Request(HttpMethod.Post, $"/api/admin/sagas/{sagaId}/cancel", """{"reason":"the customer called"}""", admin: true));
        var parked = await WaitTerminalAsync(sagaId);
        await participants.Payments.FaultsAsync(new Dictionary<string, PathFaults>());
        var (retried, _) = await SendAsync(silo.Request(HttpMethod.Post, $"/api/admin/sagas/{sagaId}/retry", admin: true));
        var ended = await WaitTerminalAsync(sagaId);

        Assert.Equal("Running", waiting.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Accepted, cancelled);
        Assert.Equal("Failed", parked.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Accepted, retried);
        Assert.Equal("Compensated", ended.GetProperty("status").GetString());
        Assert.Contains("parked for an operator", parked.GetProperty("failureReason").GetString(), StringComparison.Ordinal);
        // The charge was accepted (in effect at the participant), so cancelling undid it, then the reservation.
        var charge = Action(await participants.Payments.EffectsAsync(), sagaId, "charge");
        var reserve = Action(await participants.Inventory.EffectsAsync(), sagaId, "reserve");
        Assert.True(charge is { Applied: true, Undone: true }, charge.ToString());
        Assert.True(reserve is { Applied: true, Undone: true }, reserve.ToString());
    }

    [Fact]
    public async Task ADefinitionLargerThanTheApisGeneralBodyLimit_IsAccepted_UpToItsOwnLimit()
    {
        var name = Name("large");
        // Over Http:MaxRequestBodyBytes (64 KiB), under Sagas:Http:MaxDefinitionBytes (256 KiB).
        var document = Order(name).Replace("\"inputSchema\"", $"\"description\": \"{new string('x', 100_000)}\", \"inputSchema\"", StringComparison.Ordinal);

        var (status, _) = await RegisterAsync(name, document);

        Assert.Equal(HttpStatusCode.Created, status);
    }
}
