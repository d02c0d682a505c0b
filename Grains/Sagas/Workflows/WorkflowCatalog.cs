using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Reliability.Sagas.Workflows;

/// <summary>
/// The registered workflows, parsed: registration checks a document and stores it as a new version;
/// starting reads the latest version, checks the input against its schema and gives the saga to run.
/// A version never changes once stored, so parsed versions are kept per silo.
/// </summary>
public sealed class WorkflowCatalog(IWorkflowStore store, WorkflowParser parser, TimeProvider time)
{
    /// <summary>Names the built-in workflows run under; a registered one may not take them.</summary>
    public static readonly ImmutableArray<string> BuiltInNames = [.. BuiltInWorkflows.Names.Order(StringComparer.Ordinal)];

    private readonly ConcurrentDictionary<(string, int), Parsed> _parsed = new();

    private sealed record Parsed(WorkflowDefinition Definition, JsonSchema Schema);

    /// <summary>Checks and stores <paramref name="document"/> as the next version of <paramref name="name"/>.</summary>
    public async Task<(WorkflowRegistration? Registration, ImmutableArray<WorkflowError> Errors)> RegisterAsync(string name, JsonObject document)
    {
        var (definition, errors) = parser.Parse(name, 0, document);
        if (definition is null)
        {
            return (null, errors);
        }

        int? expected = null;
        if (document["version"] is { } version)
        {
            if (version is not JsonValue v || !v.TryGetValue<int>(out var number) || number < 1)
            {
                return (null, [new WorkflowError("version", "must be a whole number from 1: the version this document is to become")]);
            }

            expected = number;
        }

        var registration = await store.RegisterAsync(name, document, expected, time.GetUtcNow());
        return (registration, []);
    }

    /// <summary>
    /// The saga one start request runs: the latest version's steps, with <paramref name="input"/> checked against
    /// its schema. Null definition when the workflow does not exist; errors name the input's fields.
    /// </summary>
    public async Task<(SagaDefinition? Saga, ImmutableArray<WorkflowError> Errors, bool Found)> PrepareAsync(string name, JsonElement input)
    {
        var parsed = BuiltInWorkflows.TryGet(name, out var builtIn, out var builtInSchema) ? new Parsed(builtIn, builtInSchema) : await LoadAsync(name, null);
        if (parsed is null)
        {
            return (null, [], false);
        }

        var errors = CheckInput(parsed.Schema, input);
        return errors.IsEmpty ? (parsed.Definition.ToSaga(input.GetRawText()), [], true) : (null, errors, true);
    }

    /// <summary>Every way <paramref name="input"/> fails its schema, each at its place in the input (<c>input.amount</c>).</summary>
    public static ImmutableArray<WorkflowError> CheckInput(JsonSchema schema, JsonElement input)
    {
        var results = schema.Evaluate(input, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
        {
            return [];
        }

        var errors = (results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => new WorkflowError(Place(d.InstanceLocation.ToString()), e.Value)))
            .Distinct()
            .Take(20)
            .ToImmutableArray();
        return errors.IsEmpty ? [new WorkflowError("input", "does not match the workflow's input schema")] : errors;
    }

    private async Task<Parsed?> LoadAsync(string name, int? version)
    {
        if (version is { } v && _parsed.TryGetValue((name, v), out var known))
        {
            return known;
        }

        var stored = await store.GetAsync(name, version);
        if (stored is null || (version is null && stored.DeletedAt is not null))
        {
            return null;
        }

        if (_parsed.TryGetValue((name, stored.Version), out var cached))
        {
            return cached;
        }

        var (definition, errors) = parser.Parse(name, stored.Version, stored.Document);
        if (definition is null)
        {
            // Stored under a looser configuration (a host since taken off the allow-list): it cannot start sagas now.
            throw new InvalidOperationException($"Workflow {name} version {stored.Version} no longer passes its checks: {string.Join("; ", errors)}");
        }

        var schema = JsonSchema.Build(definition.InputSchema, new BuildOptions { SchemaRegistry = new SchemaRegistry() }, new Uri($"urn:workflow:{name}:{stored.Version}"));
        return _parsed.GetOrAdd((name, stored.Version), new Parsed(definition, schema));
    }

    /// <summary>A JSON pointer into the input (<c>/items/0/sku</c>) as a field path (<c>input.items[0].sku</c>).</summary>
    private static string Place(string pointer) =>
        "input" + string.Concat(pointer.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Replace("~1", "/").Replace("~0", "~"))
            .Select(p => p.All(char.IsAsciiDigit) ? $"[{p}]" : $".{p}"));
}
