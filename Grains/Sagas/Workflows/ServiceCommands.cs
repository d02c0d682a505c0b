using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Reliability.Sagas.Workflows;

/// <summary>
/// The built-in services' commands a workflow step may name (<c>"service": "debit-account"</c>): their names and
/// fields, read from the commands themselves, and a rendered body made into the command it names.
/// </summary>
public static class ServiceCommands
{
    /// <summary>Each command's name and its fields, as a body names them (camelCase).</summary>
    public static readonly FrozenDictionary<string, ImmutableArray<string>> Fields = typeof(SagaCommand)
        .GetCustomAttributes<JsonDerivedTypeAttribute>()
        .Where(d => d.DerivedType != typeof(HttpCall) && d.DerivedType != typeof(ServiceCall))
        .ToFrozenDictionary(
            d => (string)d.TypeDiscriminator!,
            d => d.DerivedType.GetConstructors().Single().GetParameters().Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name!)).ToImmutableArray(),
            StringComparer.Ordinal);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { AllowOutOfOrderMetadataProperties = true };

    /// <summary>The command of <paramref name="call"/> with its templates filled from <paramref name="context"/>; <see cref="TemplateException"/> if one names nothing.</summary>
    public static SagaCommand Resolve(ServiceCall call, JsonObject context)
    {
        var body = JsonNode.Parse(WorkflowTemplate.RenderJson(call.Body, context))!.AsObject();
        body["command"] = call.Service;
        try
        {
            return body.Deserialize<SagaCommand>(Json) ?? throw new TemplateException($"{call.Service}: the body rendered to nothing");
        }
        catch (JsonException ex)
        {
            throw new TemplateException($"{call.Service}: the rendered body is not that command ({ex.Message})");
        }
    }
}
