using System.Collections.Immutable;
using Reliability.Sagas.Workflows;

namespace Reliability.Tests.Sagas.Workflows;

public sealed class WorkflowTemplateTests
{
    private static readonly System.Text.Json.Nodes.JsonObject Context = HttpParticipant.Context(
        """{"orderId":"o 1/2","amount":12.5,"tags":["a","b"],"address":{"city":"Oslo"}}""",
        ImmutableDictionary<string, string>.Empty.Add("reserve", """{"status":201,"body":{"id":"r-7","items":[{"sku":"x"}]}}"""));

    [Fact]
    public void RenderJson_AStringThatIsOneHole_TakesTheValueWithItsType()
    {
        var body = WorkflowTemplate.RenderJson("""{"amount":"{{input.amount}}","address":"{{ input.address }}","first":"{{input.tags.0}}","fixed":3}""", Context);

        Assert.Equal("""{"amount":12.5,"address":{"city":"Oslo"},"first":"a","fixed":3}""", body);
    }

    [Fact]
    public void RenderJson_HolesInsideText_AreWrittenIn()
    {
        var body = WorkflowTemplate.RenderJson("""{"note":"order {{input.orderId}} of {{input.amount}} ({{steps.reserve.response.status}})"}""", Context);

        Assert.Equal("""{"note":"order o 1/2 of 12.5 (201)"}""", body);
    }

    [Fact]
    public void RenderText_EscapesValuesForAUrl()
    {
        var url = WorkflowTemplate.RenderText("http://h/orders/{{input.orderId}}/r/{{steps.reserve.response.body.items.0.sku}}", Context, Uri.EscapeDataString);

        Assert.Equal("http://h/orders/o%201%2F2/r/x", url);
    }

    [Fact]
    public void Render_APathThatNamesNothing_Throws_NamingWhatIsMissing()
    {
        var error = Assert.Throws<TemplateException>(() => WorkflowTemplate.RenderText("{{steps.reserve.response.body.reservationId}}", Context));

        Assert.Contains("no 'reservationId'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain text", 0)]
    [InlineData("{{input.a}} and {{steps.b.response.status}}", 2)]
    public void Parse_FindsEveryHole(string template, int holes)
    {
        var (paths, error) = WorkflowTemplate.Parse(template);

        Assert.Null(error);
        Assert.Equal(holes, paths.Length);
    }

    [Theory]
    [InlineData("{{input..a}}")]
    [InlineData("{{input.a b}}")]
    [InlineData("{{ }}")]
    [InlineData("}} {{input.a}}")]
    public void Parse_AMalformedHole_IsAnError(string template) => Assert.NotNull(WorkflowTemplate.Parse(template).Error);
}
