using Reliability.Projections;
using Reliability.Projections.Scripts;

namespace Reliability.Tests.Projections;

/// <summary>The JavaScript projection engine on its own: what a script defines, how it folds, and every sandbox limit.</summary>
public sealed class ScriptProjectionTests
{
    private const string Counter =
        """
        fromStores(['shop', 'billing'])
          .partitionBy(e => e.data.customerId)
          .when({
            $init: () => ({ orders: 0, paid: 0 }),
            OrderPlaced: (s, e) => { s.orders++; return s; },
            InvoicePaid: (s, e) => { s.paid += e.data.amount; },
          });
        """;

    private static long _position;

    private static ProjectedEvent Event(string type, string data, string store = "shop", string stream = "s-1") =>
        new(store, ++_position, (ulong)_position, stream, 1, type, data, DateTimeOffset.UnixEpoch);

    private static (string? Json, List<string> Errors) FoldAll(ScriptProjection script, string? state, params ProjectedEvent[] events)
    {
        using var fold = script.Fold(state);
        var errors = events.Select(fold.TryApply).Where(e => e is not null).Select(e => e!).ToList();
        var (json, error) = fold.Finish();
        if (error is not null)
        {
            errors.Add(error);
        }

        return (json, errors);
    }

    [Fact]
    public void Compile_ReadsTheStoresThePartitionAndTheHandledTypes()
    {
        var script = ScriptProjection.Compile("customers", 1, Counter);

        Assert.Equal(["shop", "billing"], script.Stores.ToArray());
        Assert.True(script.Partitioned);
        Assert.Equal(["OrderPlaced", "InvoicePaid"], script.Handles.ToArray());
    }

    [Fact]
    public void Route_GivesThePartitionKey_AndNullForTypesNobodyHandlesOrAMissingKey()
    {
        var script = ScriptProjection.Compile("customers", 1, Counter);

        Assert.Equal("c-7", script.Route(Event("OrderPlaced", """{"customerId":"c-7"}""")));
        Assert.Equal("42", script.Route(Event("OrderPlaced", """{"customerId":42}""")));
        Assert.Null(script.Route(Event("OrderShipped", """{"customerId":"c-7"}""")));
        Assert.Null(script.Route(Event("OrderPlaced", """{"other":1}""")));
    }

    [Fact]
    public void Route_OfAKeyThatIsNotAStringOrNumber_Throws_SoTheRunnerParksTheEvent()
    {
        var script = ScriptProjection.Compile("customers", 1, Counter);

        Assert.Throws<InvalidDataException>(() => script.Route(Event("OrderPlaced", """{"customerId":{"a":1}}""")));
    }

    [Fact]
    public void Fold_StartsFromInit_UsesTheAnswerOrTheStateChangedInPlace_AndContinuesFromStoredJson()
    {
        var script = ScriptProjection.Compile("customers", 1, Counter);

        var (first, errors) = FoldAll(script, null, Event("OrderPlaced", "{}"), Event("InvoicePaid", """{"amount":5}""", "billing"));
        var (second, _) = FoldAll(script, first, Event("OrderPlaced", "{}"));

        Assert.Empty(errors);
        Assert.Equal("""{"orders":1,"paid":5}""", first);
        Assert.Equal("""{"orders":2,"paid":5}""", second);
    }

    [Fact]
    public void Fold_WhenAHandlerThrowsHalfWay_RefusesThatEventWithTheLine_AndKeepsTheStateAsBeforeIt()
    {
        var script = ScriptProjection.Compile("p", 1,
            """
            fromStores('shop').when({
              Add: (s, e) => { s.n = (s.n || 0) + 1; return s; },
              Bad: (s, e) => {
                s.n = 1000;
                throw new Error('no such thing');
              },
            });
            """);

        using var fold = script.Fold(null);
        Assert.Null(fold.TryApply(Event("Add", "{}")));
        var error = fold.TryApply(Event("Bad", "{}"));
        Assert.Null(fold.TryApply(Event("Add", "{}")));

        Assert.NotNull(error);
        Assert.Contains("line 5", error);
        Assert.Contains("no such thing", error);
        Assert.Equal("""{"n":2}""", fold.Finish().Json);
    }

    [Theory]
    [InlineData("Loop: (s, e) => { while (true) {} }", "statements")]
    [InlineData("Loop: (s, e) => { var a = []; for (;;) { a.push('x'.repeat(1000)); } }", "")]
    [InlineData("Loop: (s, e) => { const f = n => f(n + 1); return f(0); }", "nested calls")]
    [InlineData("Loop: (s, e) => { s.big = 'x'.repeat(300 * 1024); return s; }", "bytes as JSON")]
    public void Fold_OfAScriptThatExceedsALimit_IsStoppedAndReported_AndTheEngineStaysUsable(string handler, string reason)
    {
        var script = ScriptProjection.Compile("p", 1, $$"""fromStores('shop').when({ {{handler}}, Ok: (s, e) => { s.ok = true; return s; } });""");

        var (json, errors) = FoldAll(script, null, Event("Loop", "{}"));
        var (after, none) = FoldAll(script, null, Event("Ok", "{}"));

        Assert.Null(json);
        var error = Assert.Single(errors);
        Assert.StartsWith("script stopped", error.Replace("the view's state", "script stopped: the view's state"));
        Assert.Contains(reason, error);
        Assert.Empty(none);
        Assert.Equal("""{"ok":true}""", after);
    }

    [Theory]
    [InlineData("typeof System", "undefined")]
    [InlineData("typeof importNamespace", "undefined")]
    [InlineData("typeof require", "undefined")]
    [InlineData("typeof process", "undefined")]
    [InlineData("typeof fetch", "undefined")]
    [InlineData("typeof XMLHttpRequest", "undefined")]
    public void Scripts_SeeNothingOutsideTheSandbox(string expression, string expected)
    {
        var script = ScriptProjection.Compile("p", 1, $$"""fromStores('shop').when({ Look: (s, e) => ({ seen: {{expression}} }) });""");

        var (json, errors) = FoldAll(script, null, Event("Look", "{}"));

        Assert.Empty(errors);
        Assert.Equal($$"""{"seen":"{{expected}}"}""", json);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("fromStores(['a'", "does not parse")]
    [InlineData("var x = 1;", "defines no projection")]
    [InlineData("fromStores([]).when({ A: s => s })", "non-empty array")]
    [InlineData("fromStores('a')", "no handlers")]
    [InlineData("fromStores('a').when({ A: 3 })", "'A' is not a function")]
    [InlineData("fromStores('a').when({ $init: () => ({}) })", "names no event type")]
    [InlineData("fromStores('a'); fromStores('b')", "call fromStores once")]
    [InlineData("fromStores('a').when({ A: s => s });\nnull.x;", "line 2")]
    [InlineData("while (true) {}", "statements")]
    public void Compile_RefusesABadScript_SayingWhy(string source, string reason)
    {
        var error = Assert.Throws<ScriptDefinitionException>(() => ScriptProjection.Compile("p", 1, source));

        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void TheEvent_CarriesItsPlace_AndItsData_WhichReadsTwiceTheSame_AndCanBeReplaced()
    {
        var script = ScriptProjection.Compile("p", 1,
            """
            fromStores('shop').when({
              A: (s, e) => {
                const first = e.data;
                e.data = { replaced: true };
                return { where: `${e.store}/${e.stream}@${e.version} ${e.type}`, same: first === first, n: first.n, replaced: e.data.replaced, keys: Object.keys(e).join(',') };
              },
            });
            """);

        var (json, errors) = FoldAll(script, null, Event("A", """{"n":7}""", stream: "s-9"));

        Assert.Empty(errors);
        Assert.Equal("""{"where":"shop/s-9@1 A","same":true,"n":7,"replaced":true,"keys":"store,stream,type,version,position,recordedAt,data"}""", json);
    }

    [Fact]
    public void AProjectionWithoutPartitionBy_HasOneView_ForTheTypesItHandles()
    {
        var script = ScriptProjection.Compile("p", 1, "fromStores('shop').when({ A: (s, e) => s })");

        Assert.Equal(ScriptProjection.SingleKey, script.Route(Event("A", "{}")));
        Assert.Null(script.Route(Event("B", "{}")));
    }
}
