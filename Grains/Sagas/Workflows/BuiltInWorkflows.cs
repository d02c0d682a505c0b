using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Reliability.Sagas.Workflows;

/// <summary>
/// The built-in workflows (place-order, transfer): definitions in the same format as registered ones, shipped
/// with the silo (<c>Sagas/BuiltIn/*.json</c>), whose steps call this cluster's services. Version 1, never stored.
/// </summary>
public static class BuiltInWorkflows
{
    private static readonly Lazy<FrozenDictionary<string, (WorkflowDefinition Definition, JsonObject Document, JsonSchema Schema)>> All = new(Load);

    public static IEnumerable<string> Names => All.Value.Keys;

    public static bool TryGet(string name, out WorkflowDefinition definition, out JsonSchema schema)
    {
        var found = All.Value.TryGetValue(name, out var entry);
        (definition, schema) = (entry.Definition, entry.Schema);
        return found;
    }

    /// <summary>The document a built-in workflow is defined by, as <c>GET /api/workflows/{name}</c> shows it.</summary>
    public static JsonObject? Document(string name) => All.Value.TryGetValue(name, out var entry) ? entry.Document : null;

    /// <summary>The saga a start of a built-in workflow runs (for code that builds sagas without a silo: tests, tools).</summary>
    public static SagaDefinition Saga(WorkflowStart start) =>
        TryGet(start.Workflow, out var definition, out _) ? definition.ToSaga(start.Input) : throw new ArgumentException($"No built-in workflow '{start.Workflow}'.", nameof(start));

    private static FrozenDictionary<string, (WorkflowDefinition, JsonObject, JsonSchema)> Load()
    {
        var assembly = typeof(BuiltInWorkflows).Assembly;
        var parser = new WorkflowParser(new SagaHttpOptions());
        var loaded = new Dictionary<string, (WorkflowDefinition, JsonObject, JsonSchema)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith("workflows/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            var document = JsonNode.Parse(stream)!.AsObject();
            var name = Path.GetFileNameWithoutExtension(resource);
            var (definition, errors) = parser.Parse(name, 1, document);
            if (definition is null)
            {
                throw new InvalidOperationException($"The built-in workflow {name} is invalid: {string.Join("; ", errors)}");
            }

            var schema = JsonSchema.Build(definition.InputSchema, new BuildOptions { SchemaRegistry = new SchemaRegistry() }, new Uri($"urn:workflow:{name}:built-in"));
            loaded[name] = (definition, document, schema);
        }

        return loaded.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
