using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Reliability.Sagas;
using Reliability.Sagas.Workflows;

namespace Reliability.Tests.Sagas.Workflows;

public sealed class WorkflowParserTests
{
    private static readonly SagaHttpOptions Http = new() { Secrets = { ["billing-token"] = "s3cret" } };

    private readonly WorkflowParser _parser = new(Http);

    /// <summary>A valid three-step order workflow: reserve, charge (the pivot), ship.</summary>
    public const string Order = """
        {
          "name": "order",
          "description": "reserve, charge, ship",
          "inputSchema": {
            "type": "object",
            "required": ["orderId", "amount", "address"],
            "properties": {
              "orderId": {"type": "string"},
              "amount": {"type": "number", "exclusiveMinimum": 0},
              "address": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}},
              "note": {"type": "string"}
            }
          },
          "steps": [
            {
              "name": "reserve",
              "action": {"method": "POST", "url": "http://127.0.0.1:5001/reservations/{{input.orderId}}", "body": {"amount": "{{input.amount}}"}},
              "compensation": {"method": "POST", "url": "http://127.0.0.1:5001/reservations/{{input.orderId}}/release"},
              "retry": {"maxAttempts": 3, "initialInterval": "100ms", "backoffCoefficient": 2, "maxInterval": "1s", "nonRetryableStatuses": [409]},
              "timeout": "2s"
            },
            {
              "name": "charge",
              "pivot": true,
              "action": {"url": "http://localhost:5002/charges", "headers": {"Authorization": "Bearer {{secrets.billing-token}}"},
                         "body": {"reservation": "{{steps.reserve.response.body.id}}", "text": "order {{input.orderId}} for {{input.amount}}"}}
            },
            {
              "name": "ship",
              "action": {"method": "PUT", "url": "http://localhost:5003/shipments/{{input.orderId}}", "body": {"city": "{{input.address.city}}"}}
            }
          ]
        }
        """;

    private (WorkflowDefinition? Definition, IReadOnlyList<WorkflowError> Errors) Parse(string json, bool yaml = false)
    {
        var (document, error) = WorkflowParser.ReadDocument(json, yaml);
        Assert.Null(error);
        var (definition, errors) = _parser.Parse("order", 1, document!);
        return (definition, errors);
    }

    private static string With(Action<JsonObject> change)
    {
        var document = JsonNode.Parse(Order)!.AsObject();
        change(document);
        return document.ToJsonString();
    }

    private void AssertRefused(string json, string path, string words)
    {
        var (definition, errors) = Parse(json);
        Assert.Null(definition);
        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(words, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_AValidDocument_GivesItsStepsPivotAndPolicies()
    {
        var (definition, errors) = Parse(Order);

        Assert.Empty(errors);
        Assert.NotNull(definition);
        Assert.Equal(["reserve", "charge", "ship"], definition.Steps.Select(s => s.Name));
        Assert.Equal(1, definition.Pivot);
        var reserve = definition.Steps[0].Policy!;
        Assert.Equal((3, TimeSpan.FromMilliseconds(100), 2d, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)),
            (reserve.MaxAttempts, reserve.InitialInterval, reserve.BackoffCoefficient, reserve.MaxInterval, reserve.Timeout));
        Assert.Equal([409], reserve.NonRetryableStatuses.ToArray());
        Assert.Equal(WorkflowParser.DefaultPolicy, definition.Steps[2].Policy);
        Assert.Equal("POST", ((HttpCall)definition.Steps[1].Action).Method);
        Assert.Equal("PUT", ((HttpCall)definition.Steps[2].Action).Method);
    }

    [Fact]
    public void ToSaga_RetriesTheStepsAfterThePivotUntilTheySucceed_AndCarriesVersionAndInput()
    {
        var saga = Parse(Order).Definition!.ToSaga("""{"orderId":"o1"}""");

        Assert.Equal([false, false, true], saga.Steps.Select(s => s.Policy!.UntilSuccess));
        Assert.Equal(1, saga.Version);
        Assert.Equal("order", saga.Kind);
        Assert.Equal("""{"orderId":"o1"}""", saga.Input);
        Assert.Null(saga.Steps[2].Compensation);
    }

    [Fact]
    public void Parse_TheSameDocumentInYaml_GivesTheSameDefinition()
    {
        const string yaml = """
            name: order
            inputSchema:
              type: object
              required: [orderId, amount]
              properties:
                orderId: {type: string}
                amount: {type: number}
            steps:
              - name: reserve
                action:
                  url: "http://127.0.0.1:5001/reservations/{{input.orderId}}"
                  body: {amount: "{{input.amount}}", count: 3, express: true}
                compensation:
                  url: "http://127.0.0.1:5001/reservations/{{input.orderId}}/release"
              - name: charge
                pivot: true
                action: {url: "http://localhost:5002/charges"}
                retry: {maxAttempts: 4, initialInterval: 200ms, backoffCoefficient: 1.5, nonRetryableStatuses: [409, 422]}
                timeout: 2s
            """;

        var (definition, errors) = Parse(yaml, yaml: true);

        Assert.Empty(errors);
        Assert.Equal(["reserve", "charge"], definition!.Steps.Select(s => s.Name));
        Assert.Equal("""{"amount":"{{input.amount}}","count":3,"express":true}""", ((HttpCall)definition.Steps[0].Action).Body);
        var charge = definition.Steps[1].Policy!;
        Assert.Equal((4, 1.5, TimeSpan.FromSeconds(2)), (charge.MaxAttempts, charge.BackoffCoefficient, charge.Timeout));
        Assert.Equal([409, 422], charge.NonRetryableStatuses.ToArray());
    }

    [Fact]
    public void Parse_AnUnknownField_IsRefusedAtItsPath() =>
        AssertRefused(With(d => d["steps"]![0]!["action"]!["verb"] = "POST"), "steps[0].action.verb", "is not a field here");

    [Fact]
    public void Parse_AStepBeforeThePivotWithoutCompensation_IsRefused() =>
        AssertRefused(With(d => d["steps"]![0]!.AsObject().Remove("compensation")), "steps[0].compensation", "is missing");

    [Fact]
    public void Parse_ACompensationAfterThePivot_IsRefused() =>
        AssertRefused(With(d => d["steps"]![2]!["compensation"] = new JsonObject { ["url"] = "http://localhost:5003/undo" }), "steps[2].compensation", "after the pivot");

    [Fact]
    public void Parse_TheLastStepWithoutCompensationAndNoPivot_IsAccepted()
    {
        var (definition, errors) = Parse(With(d => d["steps"]![1]!.AsObject().Remove("pivot")));

        Assert.True(errors.Count == 0 || errors.All(e => e.Path != "steps[2].compensation"), string.Join("; ", errors));
        // charge then lacks a compensation with a step after it: refused there, not at the last step.
        Assert.Null(definition);
        Assert.Contains(errors, e => e.Path == "steps[1].compensation");
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/x", "absolute http or https")]
    [InlineData("/relative", "absolute http or https")]
    [InlineData("http://user:pw@127.0.0.1/x", "without credentials")]
    [InlineData("http://{{input.orderId}}/x", "scheme, host and port are written out")]
    [InlineData("http://example.com/x", "is not in Sagas:Http:AllowedHosts")]
    [InlineData("http://127.0.0.1/{{input.note}}", "does not require")]
    [InlineData("http://127.0.0.1/{{input.missing}}", "does not define")]
    [InlineData("http://127.0.0.1/{{steps.ship.response.body.id}}", "not a step before this call")]
    [InlineData("http://127.0.0.1/{{steps.reserve.answer}}", "must read steps.<step>.response")]
    [InlineData("http://127.0.0.1/{{env.HOME}}", "must start with input or steps")]
    [InlineData("http://127.0.0.1/{{secrets.billing-token}}", "headers only")]
    [InlineData("http://127.0.0.1/{{input.orderId", "unclosed or stray")]
    public void Parse_ABadUrl_IsRefusedAtItsPath(string url, string words) =>
        AssertRefused(With(d => d["steps"]![1]!["action"]!["url"] = url), "steps[1].action.url", words);

    [Fact]
    public void Parse_ATemplateReadingItsOwnStepsAnswerInTheCompensation_IsRefused() =>
        AssertRefused(With(d => d["steps"]![0]!["compensation"]!["url"] = "http://127.0.0.1:5001/r/{{steps.reserve.response.body.id}}"),
            "steps[0].compensation.url", "not a step before this call");

    [Fact]
    public void Parse_ABodyTemplateNamingNothing_IsRefusedAtItsPathInTheBody() =>
        AssertRefused(With(d => d["steps"]![1]!["action"]!["body"]!["reservation"] = "{{steps.charge.response.body.id}}"),
            "steps[1].action.body.reservation", "not a step before this call");

    [Theory]
    [InlineData("Authorization", "Bearer abc123", "carries a credential")]
    [InlineData("X-Api-Key", "abc123", "carries a credential")]
    [InlineData("Idempotency-Key", "mine", "set by the orchestrator")]
    [InlineData("traceparent", "00-x", "set by the orchestrator")]
    [InlineData("X-Token", "{{secrets.nope}}", "not configured")]
    public void Parse_ABadHeader_IsRefused(string name, string value, string words) =>
        AssertRefused(With(d => d["steps"]![1]!["action"]!["headers"] = new JsonObject { [name] = value }), $"steps[1].action.headers.{name}", words);

    [Theory]
    [InlineData("timeout", "\"forever\"", "steps[0].timeout")]
    [InlineData("timeout", "\"10m\"", "steps[0].timeout")]
    [InlineData("retry", "{\"maxAttempts\": 0}", "steps[0].retry.maxAttempts")]
    [InlineData("retry", "{\"backoffCoefficient\": 0.5}", "steps[0].retry.backoffCoefficient")]
    [InlineData("retry", "{\"initialInterval\": \"2s\", \"maxInterval\": \"1s\"}", "steps[0].retry.maxInterval")]
    [InlineData("retry", "{\"nonRetryableStatuses\": [200]}", "steps[0].retry.nonRetryableStatuses")]
    [InlineData("pivot", "\"yes\"", "steps[0].pivot")]
    public void Parse_ABadPolicy_IsRefusedAtItsPath(string field, string json, string path) =>
        AssertRefused(With(d => d["steps"]![0]![field] = JsonNode.Parse(json)), path, "must");

    [Fact]
    public void Parse_TwoStepsOfOneName_AndTwoPivots_AreBothRefused()
    {
        var (_, errors) = Parse(With(d =>
        {
            d["steps"]![2]!["name"] = "reserve";
            d["steps"]![0]!["pivot"] = true;
        }));

        Assert.Contains(errors, e => e.Path == "steps[2].name" && e.Message.Contains("unique", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "steps[1].pivot" && e.Message.Contains("only one", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_ANameThatDisagreesWithTheRegisteredOne_IsRefused() =>
        AssertRefused(With(d => d["name"] = "shipping"), "name", "registered as 'order'");

    [Fact]
    public void Parse_AnInvalidInputSchema_IsRefused() =>
        AssertRefused(With(d => d["inputSchema"] = new JsonObject { ["type"] = 42 }), "inputSchema", "not a valid JSON Schema");

    [Theory]
    [InlineData("{", false)]
    [InlineData("[1, 2]", false)]
    [InlineData("a: [unclosed", true)]
    [InlineData("base: &a {x: 1}\ncopy: *a", true)]
    public void ReadDocument_TextThatIsNotOneObject_IsRefused(string text, bool yaml)
    {
        var (document, error) = WorkflowParser.ReadDocument(text, yaml);

        Assert.Null(document);
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("1.5s", 1500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    public void TryDuration_ReadsUnits(string text, double milliseconds)
    {
        Assert.True(WorkflowParser.TryDuration(text, out var value));
        Assert.Equal(milliseconds, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("http://localhost:8080/x", true)]
    [InlineData("http://127.0.0.1/x", true)]
    [InlineData("http://[::1]:9000/x", true)]
    [InlineData("http://localhost.evil.example/x", false)]
    [InlineData("http://10.0.0.1/x", false)]
    public void Allows_DefaultsToLoopbackOnly(string url, bool allowed) =>
        Assert.Equal(allowed, new SagaHttpOptions().Allows(new Uri(url)));

    [Fact]
    public void Allows_ASuffixRuleAndAHostPortRule()
    {
        var options = new SagaHttpOptions { AllowedHosts = ["*.payments.internal", "billing:8443"] };

        Assert.True(options.Allows(new Uri("https://eu.payments.internal/x")));
        Assert.False(options.Allows(new Uri("https://payments.internal.evil/x")));
        Assert.True(options.Allows(new Uri("https://billing:8443/x")));
        Assert.False(options.Allows(new Uri("https://billing:9443/x")));
    }

    [Fact]
    public void AllowedHosts_FromConfiguration_ReplaceLoopback_RatherThanAddingToIt()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Sagas:Http:AllowedHosts:0"] = "billing.internal" })
            .Build();
        var options = new SagaOptions();
        configuration.GetSection("Sagas").Bind(options);

        Assert.True(options.Http.Allows(new Uri("http://billing.internal/x")));
        Assert.False(options.Http.Allows(new Uri("http://127.0.0.1/x")));
    }
}
