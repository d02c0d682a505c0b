using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Reliability.Sagas.Workflows;

/// <summary>
/// The templates of a workflow's calls: text with <c>{{path}}</c> holes, where a path reads the saga's
/// input (<c>input.amount</c>), an earlier step's answer (<c>steps.reserve.response.body.id</c>,
/// <c>steps.reserve.response.status</c>) or, in a header only, a configured secret
/// (<c>secrets.billing-token</c>). Nothing else is reachable. Pure: parsing and checking happen at
/// registration, rendering at each attempt.
/// </summary>
public static partial class WorkflowTemplate
{
    [GeneratedRegex(@"\{\{\s*([^{}]*?)\s*\}\}")]
    private static partial Regex Hole();

    [GeneratedRegex(@"^[A-Za-z0-9_\-]+$")]
    private static partial Regex Segment();

    /// <summary>The paths a template names, split into segments; an error for a malformed hole or a stray brace.</summary>
    public static (ImmutableArray<ImmutableArray<string>> Paths, string? Error) Parse(string template)
    {
        var paths = ImmutableArray.CreateBuilder<ImmutableArray<string>>();
        foreach (Match match in Hole().Matches(template))
        {
            var segments = match.Groups[1].Value.Split('.');
            if (segments.Any(s => !Segment().IsMatch(s)))
            {
                return ([], $"'{{{{{match.Groups[1].Value}}}}}' is not a path of names joined by dots");
            }

            paths.Add([.. segments]);
        }

        var rest = Hole().Replace(template, "");
        return rest.Contains("{{", StringComparison.Ordinal) || rest.Contains("}}", StringComparison.Ordinal)
            ? ([], "has an unclosed or stray '{{' or '}}'")
            : (paths.ToImmutable(), null);
    }

    /// <summary>
    /// Whether <paramref name="path"/> names something a saga is sure to have when the call is made: a required
    /// field of the input schema, of the step's item (a <c>forEach</c> step), the answer of an earlier step (which
    /// succeeded before this call is made), or a configured secret where secrets are allowed.
    /// </summary>
    public static string? Check(ImmutableArray<string> path, TemplateScope scope)
    {
        var text = string.Join('.', path);
        switch (path[0])
        {
            case "input":
                return CheckRequired(path, scope.InputSchema, "input", text);
            case "item" when scope.ItemSchema is not null:
                return CheckRequired(path, scope.ItemSchema, "item", text);
            case "item":
                return $"'{text}': item is the element of a forEach step, and this step has no forEach";
            case "steps" when path.Length >= 4 && path[2] == "response" && (path[3] == "body" || (path[3] == "status" && path.Length == 4)):
                return scope.EarlierSteps.Contains(path[1])
                    ? null
                    : scope.RepeatedSteps.Contains(path[1])
                        ? $"'{text}' names step '{path[1]}', which runs once per item and so has no single answer"
                        : $"'{text}' names step '{path[1]}', which is not a step before this call";
            case "steps":
                return $"'{text}' must read steps.<step>.response.body[.field…] or steps.<step>.response.status";
            case "secrets" when scope.Secrets is null:
                return $"'{text}': secrets may be used in headers only";
            case "secrets" when path.Length == 2:
                return scope.Secrets!(path[1]) ? null : $"'{text}' names a secret that is not configured (Sagas:Http:Secrets:{path[1]})";
            default:
                return $"'{text}' must start with input{(scope.ItemSchema is null ? "" : ", item")} or steps{(scope.Secrets is null ? "" : " or secrets")}";
        }
    }

    /// <summary>The template with every hole replaced by <paramref name="word"/>: to check that the rest of a URL is a URL.</summary>
    public static string Blank(string template, string word) => Hole().Replace(template, word);

    /// <summary>Text with every hole replaced by the string form of what it names; <paramref name="escape"/> applies to each value (URL escaping).</summary>
    public static string RenderText(string template, JsonObject context, Func<string, string>? escape = null) =>
        Hole().Replace(template, m =>
        {
            var value = Resolve(context, m.Groups[1].Value.Split('.'));
            var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "null";
            return escape is null ? text : escape(text);
        });

    /// <summary>
    /// A JSON body template rendered: a string that is one hole alone takes the value it names with its type
    /// (a number stays a number, an object an object); any other string has its holes written in as text.
    /// </summary>
    public static string RenderJson(string template, JsonObject context)
    {
        var node = JsonNode.Parse(template);
        return (Render(node, context)?.ToJsonString() ?? "null");
    }

    /// <summary>The value a path names in <paramref name="context"/> (<c>{input, steps, secrets}</c>); <see cref="TemplateException"/> if it names nothing.</summary>
    public static JsonNode? Resolve(JsonObject context, IReadOnlyList<string> path)
    {
        JsonNode? node = context;
        for (var i = 0; i < path.Count; i++)
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(path[i], out var child) => child,
                JsonArray a when int.TryParse(path[i], out var index) && index >= 0 && index < a.Count => a[index],
                _ => throw new TemplateException($"'{string.Join('.', path)}' names nothing: there is no '{path[i]}' in {Describe(path, i)}"),
            };
        }

        return node;
    }

    private static JsonNode? Render(JsonNode? node, JsonObject context) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Render(p.Value, context)))),
        JsonArray a => new JsonArray([.. a.Select(item => Render(item, context))]),
        JsonValue v when v.TryGetValue<string>(out var s) => RenderString(s, context),
        _ => node?.DeepClone(),
    };

    private static JsonNode? RenderString(string text, JsonObject context)
    {
        var whole = Hole().Match(text);
        return whole.Success && whole.Index == 0 && whole.Length == text.Length
            ? Resolve(context, whole.Groups[1].Value.Split('.'))?.DeepClone()
            : JsonValue.Create(RenderText(text, context));
    }

    /// <summary>The schema of what <paramref name="path"/> names under <paramref name="schema"/>, if every level on the way is required.</summary>
    public static (JsonElement? Schema, string? Error) Follow(ImmutableArray<string> path, JsonElement? schema, string root, string text)
    {
        var error = CheckRequired(path, schema, root, text);
        if (error is not null)
        {
            return (null, error);
        }

        var current = schema;
        for (var i = 1; i < path.Length; i++)
        {
            current = current!.Value.GetProperty("properties").GetProperty(path[i]);
        }

        return (current, null);
    }

    private static string? CheckRequired(ImmutableArray<string> path, JsonElement? schema, string root, string text)
    {
        if (path.Length == 1)
        {
            return null;
        }

        var current = schema;
        var at = new StringBuilder(root);
        for (var i = 1; i < path.Length; i++)
        {
            if (current is not { ValueKind: JsonValueKind.Object } level || !level.TryGetProperty("properties", out var properties)
                || properties.ValueKind != JsonValueKind.Object)
            {
                // A part of the input the schema leaves open: nothing to check it against, so it cannot be promised.
                return $"'{text}' reads {at}.{path[i]}, but the {root} schema does not define the properties of {at}";
            }

            if (!properties.TryGetProperty(path[i], out var property))
            {
                return $"'{text}' names {at}.{path[i]}, which the {root} schema does not define";
            }

            if (!(level.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array
                && required.EnumerateArray().Any(r => r.ValueKind == JsonValueKind.String && r.GetString() == path[i])))
            {
                return $"'{text}' names {at}.{path[i]}, which the {root} schema does not require, so a saga may start without it";
            }

            at.Append('.').Append(path[i]);
            current = property;
        }

        return null;
    }

    private static string Describe(IReadOnlyList<string> path, int i) => i == 0 ? "the saga" : string.Join('.', path.Take(i));
}

/// <summary>A template named something the saga does not have when the call was made (a participant answered without a field).</summary>
public sealed class TemplateException(string message) : Exception(message);

/// <summary>
/// What the templates of one call may name: the input schema, the item schema of a forEach step, the steps before
/// the call (and those among them that run once per item, which have no single answer), and secrets (headers only).
/// </summary>
public sealed record TemplateScope(JsonElement InputSchema, JsonElement? ItemSchema, IReadOnlySet<string> EarlierSteps, IReadOnlySet<string> RepeatedSteps, Func<string, bool>? Secrets)
{
    public TemplateScope WithSecrets(Func<string, bool> secrets) => this with { Secrets = secrets };
}
