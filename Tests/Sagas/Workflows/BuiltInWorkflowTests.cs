using System.Text.Json.Nodes;
using Reliability.Sagas;
using Reliability.Sagas.Workflows;
using Reliability.Services;

namespace Reliability.Tests.Sagas.Workflows;

/// <summary>The built-in workflows are definitions like any other: their steps name built-in services' commands.</summary>
public sealed class BuiltInWorkflowTests
{
    private readonly WorkflowParser _parser = new(new SagaHttpOptions());

    [Fact]
    public void TheBuiltInWorkflows_AreDefinitions_OfPlaceOrderAndTransfer() =>
        Assert.Equal(["place-order", "transfer"], BuiltInWorkflows.Names.Order(StringComparer.Ordinal));

    [Fact]
    public void PlaceOrder_RepeatsItsReserveStepPerLine_AndRendersEachIntoItsCommand()
    {
        var saga = BuiltInWorkflows.Saga(SagaDefinitions.PlaceOrder("o1", "carol", [new OrderLine("apple", 2, 1.5m), new OrderLine("pear", 1, 4m)]));

        Assert.Equal(["create-order", "reserve-stock[0]", "reserve-stock[1]", "charge-payment", "confirm-order"], saga.Steps.Select(s => s.Name));
        var reserve = ServiceCommands.Resolve((ServiceCall)saga.Steps[2].Action, HttpParticipant.Context(saga.Input, null, saga.Steps[2].Item));
        Assert.Equal(new ReserveStock("pear", "o1:pear", 1), reserve);
        var charge = (ChargePayment)ServiceCommands.Resolve((ServiceCall)saga.Steps[3].Action, HttpParticipant.Context(saga.Input, null));
        Assert.Equal(new ChargePayment("order-o1", "carol", "shop", 7m, "o1"), charge);
        var create = (CreateOrder)ServiceCommands.Resolve((ServiceCall)saga.Steps[0].Action, HttpParticipant.Context(saga.Input, null));
        Assert.Equal([new OrderLine("apple", 2, 1.5m), new OrderLine("pear", 1, 4m)], create.Lines.ToArray());
        Assert.Null(saga.Steps[4].Compensation);
        Assert.All(saga.Steps, s => Assert.Null(s.Policy));
    }

    [Fact]
    public void Transfer_RendersEachStepIntoTheServicesCommand()
    {
        var saga = BuiltInWorkflows.Saga(SagaDefinitions.Transfer("t9", "alice", "bob", 12.34m));
        var context = HttpParticipant.Context(saga.Input, null);

        Assert.Equal(new DebitAccount("alice", 12.34m, "t9"), ServiceCommands.Resolve((ServiceCall)saga.Steps[0].Action, context));
        Assert.Equal(new RefundDebit("alice"), ServiceCommands.Resolve((ServiceCall)saga.Steps[0].Compensation!, context));
        Assert.Equal(new CreditAccount("bob", 12.34m, "t9"), ServiceCommands.Resolve((ServiceCall)saga.Steps[2].Action, context));
        Assert.Equal((SagaDefinitions.TransferKind, 1), (saga.Kind, saga.Version));
    }

    private IReadOnlyList<WorkflowError> Errors(string steps)
    {
        const string schema = """
            {"type": "object", "required": ["id", "lines"],
             "properties": {"id": {"type": "string"}, "lines": {"type": "array", "items": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"} } } } } }
            """;
        var document = new JsonObject { ["inputSchema"] = JsonNode.Parse(schema), ["steps"] = JsonNode.Parse(steps) };
        return _parser.Parse("w", 1, document).Errors;
    }

    [Theory]
    [InlineData("""[{"name": "a", "action": {"service": "launch-rocket", "body": {}}}]""", "steps[0].action.service", "must be one of")]
    [InlineData("""[{"name": "a", "action": {"service": "confirm-order", "body": {}}}]""", "steps[0].action.body.orderId", "is missing")]
    [InlineData("""[{"name": "a", "action": {"service": "confirm-order", "body": {"orderId": "{{input.id}}", "extra": 1}}}]""", "steps[0].action.body.extra", "is not a field")]
    [InlineData("""[{"name": "a", "action": {"service": "confirm-order", "body": {"orderId": "{{item.sku}}"}}}]""", "steps[0].action.body.orderId", "has no forEach")]
    [InlineData("""[{"name": "a", "forEach": "input.id", "action": {"service": "confirm-order", "body": {"orderId": "x"}}}]""", "steps[0].forEach", "of type array")]
    [InlineData("""[{"name": "a", "forEach": "input.lines", "action": {"service": "confirm-order", "body": {"orderId": "{{item.price}}"}}}]""", "steps[0].action.body.orderId", "item schema does not define")]
    [InlineData("""[{"name": "a", "forEach": "input.lines", "action": {"url": "http://127.0.0.1/{{item.sku}}"}, "compensation": {"url": "http://127.0.0.1/u"}}, {"name": "b", "action": {"url": "http://127.0.0.1/{{steps.a.response.status}}"}}]""", "steps[1].action.url", "once per item")]
    [InlineData("""[{"name": "a", "action": {"service": "confirm-order", "body": {"orderId": "x"}}, "completion": "poll"}]""", "steps[0].completion", "HTTP steps")]
    public void Parse_ABadServiceOrForEachStep_IsRefusedAtItsPath(string steps, string path, string words) =>
        Assert.Contains(Errors(steps), e => e.Path == path && e.Message.Contains(words, StringComparison.Ordinal));

    [Fact]
    public void Parse_AForEachHttpStep_WithItemTemplates_IsAccepted() =>
        Assert.Empty(Errors("""[{"name": "a", "forEach": "input.lines", "action": {"url": "http://127.0.0.1/{{input.id}}/{{item.sku}}"}}]"""));
}
