using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace Reliability.Sagas.Workflows;

/// <summary>
/// Reads a workflow document (JSON, or YAML meaning the same JSON) into a definition, or into every error
/// it has, each naming its place in the document (<c>steps[1].compensation.url</c>). Strict: unknown
/// fields, a step without a compensation that later steps would need, a URL outside the allow-list, a
/// template naming what a saga cannot be sure to have, a credential written in clear, are all refused
/// here rather than discovered while a saga runs.
/// </summary>
public sealed partial class WorkflowParser(SagaHttpOptions options)
{
    public const int MaxSteps = 50;
    public const int MaxHeaders = 20;

    private static readonly string[] DocumentFields = ["name", "version", "description", "inputSchema", "steps"];
    private static readonly string[] StepFields = ["name", "action", "compensation", "pivot", "retry", "timeout", "completion", "forEach"];
    private static readonly string[] ServiceFields = ["service", "body"];
    private static readonly string[] CompletionFields = ["mode", "pollInterval"];
    private static readonly string[] CallFields = ["method", "url", "headers", "body"];
    private static readonly string[] RetryFields = ["maxAttempts", "initialInterval", "backoffCoefficient", "maxInterval", "nonRetryableStatuses"];
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    /// <summary>Set by the orchestrator on every call; a definition may not write them.</summary>
    private static readonly string[] ReservedHeaders = ["idempotency-key", "traceparent", "tracestate", "host", "content-length", "content-type", "transfer-encoding", "connection", "x-saga-callback", "x-saga-callback-token"];

    /// <summary>Headers that carry credentials: their value must come from a configured secret.</summary>
    private static readonly string[] CredentialHeaders = ["authorization", "proxy-authorization", "cookie", "x-api-key"];

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,49}$")]
    private static partial Regex StepName();

    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")]
    private static partial Regex HeaderName();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h)$")]
    private static partial Regex Duration();

    public static readonly StepPolicy DefaultPolicy = new(5, TimeSpan.FromMilliseconds(200), 2, TimeSpan.FromSeconds(10), [], TimeSpan.FromSeconds(5), false);

    /// <summary>
    /// The document's JSON: <paramref name="text"/> parsed as JSON, or as YAML when <paramref name="yaml"/>.
    /// Either way the result is what is stored and answered back.
    /// </summary>
    public static (JsonObject? Document, WorkflowError? Error) ReadDocument(string text, bool yaml)
    {
        if (yaml)
        {
            var (json, error) = YamlToJson.Convert(text);
            return error is not null ? (null, new WorkflowError("", $"not YAML: {error}"))
                : json is JsonObject o ? (o, null) : (null, new WorkflowError("", "must be a mapping (an object) at the top"));
        }

        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 32 }) is JsonObject o
                ? (o, null)
                : (null, new WorkflowError("", "must be a JSON object"));
        }
        catch (JsonException ex)
        {
            return (null, new WorkflowError("", $"not JSON: {ex.Message}"));
        }
    }

    /// <summary>The definition of <paramref name="document"/> as version <paramref name="version"/> of <paramref name="name"/>, or its errors.</summary>
    public (WorkflowDefinition? Definition, ImmutableArray<WorkflowError> Errors) Parse(string name, int version, JsonObject document)
    {
        var errors = ImmutableArray.CreateBuilder<WorkflowError>();
        Fields(document, DocumentFields, "", errors);
        if (document["name"] is { } named && Text(named) != name)
        {
            errors.Add(new WorkflowError("name", $"says '{named.ToJsonString()}', but the workflow is registered as '{name}'"));
        }

        var description = document["description"] is { } d ? Text(d) : null;
        if (document["description"] is not null && description is null)
        {
            errors.Add(new WorkflowError("description", "must be a string"));
        }

        var schema = InputSchema(document["inputSchema"], errors);
        var steps = Steps(document["steps"], schema, errors);
        return errors.Count > 0
            ? (null, errors.ToImmutable())
            : (new WorkflowDefinition(name, version, description, schema, steps), []);
    }

    private static JsonElement InputSchema(JsonNode? node, ImmutableArray<WorkflowError>.Builder errors)
    {
        var element = JsonSerializer.SerializeToElement(node ?? new JsonObject { ["type"] = "object" });
        if (node is not JsonObject)
        {
            if (node is not null)
            {
                errors.Add(new WorkflowError("inputSchema", "must be a JSON Schema object"));
            }

            return element;
        }

        try
        {
            JsonSchema.Build(element, new BuildOptions { SchemaRegistry = new SchemaRegistry() }, new Uri("urn:workflow:check"));
        }
        catch (Exception ex) when (ex is JsonSchemaException or JsonException or InvalidOperationException or ArgumentException or FormatException or KeyNotFoundException)
        {
            errors.Add(new WorkflowError("inputSchema", $"is not a valid JSON Schema: {ex.Message}"));
        }

        return element;
    }

    private ImmutableArray<WorkflowStep> Steps(JsonNode? node, JsonElement schema, ImmutableArray<WorkflowError>.Builder errors)
    {
        if (node is not JsonArray list || list.Count is 0 or > MaxSteps)
        {
            errors.Add(new WorkflowError("steps", $"must list 1 to {MaxSteps} steps"));
            return [];
        }

        var steps = ImmutableArray.CreateBuilder<WorkflowStep>();
        var earlier = new HashSet<string>(StringComparer.Ordinal);
        var repeated = new HashSet<string>(StringComparer.Ordinal);
        var pivot = -1;
        for (var i = 0; i < list.Count; i++)
        {
            var at = $"steps[{i}]";
            if (list[i] is not JsonObject step)
            {
                errors.Add(new WorkflowError(at, "must be an object"));
                continue;
            }

            Fields(step, StepFields, at, errors);
            var name = step["name"] is { } n ? Text(n) : null;
            if (name is null || !StepName().IsMatch(name))
            {
                errors.Add(new WorkflowError($"{at}.name", "must be 1 to 50 of a-z, 0-9, '-' and '_', starting with a letter or digit"));
                name = $"#{i}";
            }
            else if (earlier.Contains(name) || repeated.Contains(name))
            {
                errors.Add(new WorkflowError($"{at}.name", $"'{name}' names an earlier step too; step names are unique"));
            }

            var isPivot = Flag(step["pivot"], $"{at}.pivot", errors);
            if (isPivot && pivot >= 0)
            {
                errors.Add(new WorkflowError($"{at}.pivot", $"only one step is the pivot, and steps[{pivot}] is already"));
            }

            var (forEach, itemSchema) = ForEach(step["forEach"], $"{at}.forEach", schema, errors);
            if (forEach is not null && isPivot)
            {
                errors.Add(new WorkflowError($"{at}.forEach", "the pivot is one step; it cannot run once per item"));
            }

            var scope = new TemplateScope(schema, itemSchema, earlier, repeated, null);
            var action = step["action"] is null
                ? Missing($"{at}.action", errors)
                : Call(step["action"], $"{at}.action", scope, errors);
            var compensation = step["compensation"] is null ? null : Call(step["compensation"], $"{at}.compensation", scope, errors);
            if (pivot >= 0 && step["compensation"] is not null)
            {
                errors.Add(new WorkflowError($"{at}.compensation", $"comes after the pivot (steps[{pivot}]), which is never compensated past: remove it"));
            }
            else if (pivot < 0 && !isPivot && step["compensation"] is null && i < list.Count - 1)
            {
                errors.Add(new WorkflowError($"{at}.compensation", "is missing: a step before the pivot with steps after it must say how it is undone (or mark it \"pivot\": true)"));
            }

            StepPolicy? policy = Policy(step, at, errors);
            if (action is ServiceCall && step["retry"] is null && step["timeout"] is null && step["completion"] is null)
            {
                // A built-in service's step keeps the saga options' retries and timeout (Sagas:MaxAttempts, …) unless it says otherwise.
                policy = null;
            }
            else if (action is ServiceCall && policy is { Completion: not StepCompletion.Answer })
            {
                errors.Add(new WorkflowError($"{at}.completion", "a built-in service answers at once; completion applies to HTTP steps"));
            }

            if (isPivot && pivot < 0)
            {
                pivot = i;
            }

            if (action is not null)
            {
                steps.Add(new WorkflowStep(name, action, compensation, isPivot, policy, forEach));
            }

            (forEach is null ? earlier : repeated).Add(name);
        }

        return steps.ToImmutable();
    }

    /// <summary><c>"forEach": "input.lines"</c>: a required list of the input, whose items' schema the step's <c>item</c> templates are checked against.</summary>
    private static (ImmutableArray<string>? Path, JsonElement? ItemSchema) ForEach(JsonNode? node, string at, JsonElement schema, ImmutableArray<WorkflowError>.Builder errors)
    {
        if (node is null)
        {
            return (null, null);
        }

        var text = Text(node);
        var path = text?.Split('.').ToImmutableArray() ?? [];
        if (text is null || path.Length < 2 || path[0] != "input")
        {
            errors.Add(new WorkflowError(at, "must name a list of the input, such as \"input.lines\""));
            return (null, null);
        }

        var (list, error) = WorkflowTemplate.Follow(path, schema, "input", text);
        if (error is not null || list is not { } found)
        {
            errors.Add(new WorkflowError(at, error ?? "names nothing"));
            return (null, null);
        }

        if (!(found.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "array"))
        {
            errors.Add(new WorkflowError(at, $"'{text}' must be of type array in the input schema"));
            return (null, null);
        }

        return (path, found.TryGetProperty("items", out var items) ? items : JsonSerializer.SerializeToElement(new JsonObject()));
    }

    private SagaCommand? Call(JsonNode? node, string at, TemplateScope scope, ImmutableArray<WorkflowError>.Builder errors)
    {
        if (node is JsonObject service && service.ContainsKey("service"))
        {
            return Service(service, at, scope, errors);
        }

        if (node is not JsonObject call)
        {
            errors.Add(new WorkflowError(at, "must be an object: an HTTP call (method, url, headers, body) or a built-in service's command (service, body)"));
            return null;
        }

        var before = errors.Count;
        Fields(call, CallFields, at, errors);
        var method = call["method"] is { } m ? Text(m)?.ToUpperInvariant() : "POST";
        if (method is null || !Methods.Contains(method))
        {
            errors.Add(new WorkflowError($"{at}.method", $"must be one of {string.Join(", ", Methods)}"));
        }

        var url = call["url"] is { } u ? Text(u) : null;
        if (url is null)
        {
            errors.Add(new WorkflowError($"{at}.url", "is missing: an absolute http or https URL"));
        }
        else
        {
            CheckUrl(url, $"{at}.url", scope, errors);
        }

        var headers = Headers(call["headers"], $"{at}.headers", scope, errors);
        string? body = null;
        if (call.ContainsKey("body"))
        {
            if (method is "GET" or "DELETE")
            {
                errors.Add(new WorkflowError($"{at}.body", $"a {method} request has no body"));
            }

            body = call["body"]?.ToJsonString() ?? "null";
            CheckBody(call["body"], $"{at}.body", scope, errors);
        }

        return errors.Count > before ? null : new HttpCall(method!, url!, headers, body);
    }

    /// <summary>A built-in service's command: its name, and a body naming each of the command's fields.</summary>
    private static ServiceCall? Service(JsonObject call, string at, TemplateScope scope, ImmutableArray<WorkflowError>.Builder errors)
    {
        var before = errors.Count;
        Fields(call, ServiceFields, at, errors);
        var name = call["service"] is { } s ? Text(s) : null;
        if (name is null || !ServiceCommands.Fields.TryGetValue(name, out var fields))
        {
            errors.Add(new WorkflowError($"{at}.service", $"must be one of {string.Join(", ", ServiceCommands.Fields.Keys.Order(StringComparer.Ordinal))}"));
            return null;
        }

        if (call["body"] is not JsonObject body)
        {
            errors.Add(new WorkflowError($"{at}.body", $"must be an object with {string.Join(", ", fields)}"));
            return null;
        }

        foreach (var field in fields.Where(f => !body.ContainsKey(f)))
        {
            errors.Add(new WorkflowError($"{at}.body.{field}", $"is missing: {name} needs {string.Join(", ", fields)}"));
        }

        foreach (var (key, _) in body.Where(p => !fields.Contains(p.Key, StringComparer.Ordinal)))
        {
            errors.Add(new WorkflowError($"{at}.body.{key}", $"is not a field of {name}; its fields are {string.Join(", ", fields)}"));
        }

        CheckBody(body, $"{at}.body", scope, errors);
        return errors.Count > before ? null : new ServiceCall(name, body.ToJsonString());
    }

    private void CheckUrl(string url, string at, TemplateScope scope, ImmutableArray<WorkflowError>.Builder errors)
    {
        if (!CheckTemplate(url, at, scope, errors))
        {
            return;
        }

        // The host is the allow-list's business: it must be written out, so that it is checked now, not filled in at run time.
        var authorityEnd = url.IndexOf('/', url.IndexOf("://", StringComparison.Ordinal) is var s and >= 0 ? s + 3 : 0);
        var authority = authorityEnd < 0 ? url : url[..authorityEnd];
        if (authority.Contains("{{", StringComparison.Ordinal))
        {
            errors.Add(new WorkflowError(at, "templates may fill the path and query only; the scheme, host and port are written out"));
            return;
        }

        if (!Uri.TryCreate(WorkflowTemplate.Blank(url, "x"), UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo))
        {
            errors.Add(new WorkflowError(at, "must be an absolute http or https URL without credentials"));
            return;
        }

        if (!options.Allows(uri))
        {
            errors.Add(new WorkflowError(at, $"host '{uri.Authority}' is not in Sagas:Http:AllowedHosts ({string.Join(", ", options.Hosts)})"));
        }
    }

    private ImmutableArray<HttpHeaderTemplate> Headers(JsonNode? node, string at, TemplateScope scope, ImmutableArray<WorkflowError>.Builder errors)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not JsonObject headers || headers.Count > MaxHeaders)
        {
            errors.Add(new WorkflowError(at, $"must be an object of up to {MaxHeaders} header names and string values"));
            return [];
        }

        var list = ImmutableArray.CreateBuilder<HttpHeaderTemplate>();
        foreach (var (name, value) in headers)
        {
            var field = $"{at}.{name}";
            if (!HeaderName().IsMatch(name))
            {
                errors.Add(new WorkflowError(field, "is not a valid header name"));
                continue;
            }

            if (ReservedHeaders.Contains(name.ToLowerInvariant()))
            {
                errors.Add(new WorkflowError(field, "is set by the orchestrator on every call and may not be written"));
                continue;
            }

            var text = value is null ? null : Text(value);
            if (text is null || text.Length > 4096 || text.Any(c => c is < ' ' or > '~'))
            {
                errors.Add(new WorkflowError(field, "must be a string of up to 4096 printable ASCII characters"));
                continue;
            }

            if (!CheckTemplate(text, field, scope.WithSecrets(options.HasSecret), errors))
            {
                continue;
            }

            if (CredentialHeaders.Contains(name.ToLowerInvariant()) && !text.Contains("{{secrets.", StringComparison.Ordinal) && !text.Contains("{{ secrets.", StringComparison.Ordinal))
            {
                errors.Add(new WorkflowError(field, "carries a credential: take it from configuration with {{secrets.<name>}} (Sagas:Http:Secrets:<name>), never in the definition"));
                continue;
            }

            list.Add(new HttpHeaderTemplate(name, text));
        }

        return list.ToImmutable();
    }

    private static void CheckBody(JsonNode? node, string at, TemplateScope scope, ImmutableArray<WorkflowError>.Builder errors)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    CheckBody(value, $"{at}.{key}", scope, errors);
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    CheckBody(a[i], $"{at}[{i}]", scope, errors);
                }

                break;
            case JsonValue v when v.TryGetValue<string>(out var text):
                CheckTemplate(text, at, scope, errors);
                break;
        }
    }

    private static bool CheckTemplate(string text, string at, TemplateScope scope, ImmutableArray<WorkflowError>.Builder errors)
    {
        var (paths, error) = WorkflowTemplate.Parse(text);
        if (error is not null)
        {
            errors.Add(new WorkflowError(at, error));
            return false;
        }

        var ok = true;
        foreach (var path in paths)
        {
            if (WorkflowTemplate.Check(path, scope) is { } problem)
            {
                errors.Add(new WorkflowError(at, problem));
                ok = false;
            }
        }

        return ok;
    }

    private static StepPolicy Policy(JsonObject step, string at, ImmutableArray<WorkflowError>.Builder errors)
    {
        var policy = Completion(step["completion"], $"{at}.completion", errors);
        if (step["timeout"] is { } timeout)
        {
            // An accepted call may run for hours; an answer is waited for in one request.
            var longest = policy.Completion == StepCompletion.Answer ? TimeSpan.FromMinutes(2) : TimeSpan.FromDays(1);
            policy = policy with { Timeout = Span(timeout, $"{at}.timeout", TimeSpan.FromMilliseconds(10), longest, errors) ?? policy.Timeout };
        }

        if (step["retry"] is null)
        {
            return policy;
        }

        if (step["retry"] is not JsonObject retry)
        {
            errors.Add(new WorkflowError($"{at}.retry", "must be an object"));
            return policy;
        }

        var where = $"{at}.retry";
        Fields(retry, RetryFields, where, errors);
        if (retry["maxAttempts"] is { } attempts)
        {
            policy = policy with { MaxAttempts = Whole(attempts, $"{where}.maxAttempts", 1, 100, errors) ?? policy.MaxAttempts };
        }

        if (retry["initialInterval"] is { } initial)
        {
            policy = policy with { InitialInterval = Span(initial, $"{where}.initialInterval", TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1), errors) ?? policy.InitialInterval };
        }

        if (retry["maxInterval"] is { } max)
        {
            policy = policy with { MaxInterval = Span(max, $"{where}.maxInterval", TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1), errors) ?? policy.MaxInterval };
        }

        if (policy.MaxInterval < policy.InitialInterval)
        {
            errors.Add(new WorkflowError($"{where}.maxInterval", "must be at least initialInterval"));
        }

        if (retry["backoffCoefficient"] is { } coefficient)
        {
            if (coefficient is JsonValue c && c.TryGetValue<double>(out var value) && value is >= 1 and <= 10)
            {
                policy = policy with { BackoffCoefficient = value };
            }
            else
            {
                errors.Add(new WorkflowError($"{where}.backoffCoefficient", "must be a number from 1 to 10"));
            }
        }

        if (retry["nonRetryableStatuses"] is { } statuses)
        {
            var list = statuses as JsonArray;
            var codes = list?.Select(s => s is JsonValue v && v.TryGetValue<int>(out var code) ? code : 0).ToImmutableArray() ?? [];
            if (list is null || codes.Any(c => c is < 400 or > 599))
            {
                errors.Add(new WorkflowError($"{where}.nonRetryableStatuses", "must be a list of HTTP statuses from 400 to 599"));
            }
            else
            {
                policy = policy with { NonRetryableStatuses = [.. codes.Distinct().Order()] };
            }
        }

        return policy;
    }

    /// <summary>
    /// <c>"completion": "poll" | "callback" | {"mode": …, "pollInterval": "1s"}</c>: what a 202 means. Without it a
    /// 202 is a success like any 2xx.
    /// </summary>
    private static StepPolicy Completion(JsonNode? node, string at, ImmutableArray<WorkflowError>.Builder errors)
    {
        if (node is null)
        {
            return DefaultPolicy;
        }

        var settings = node as JsonObject;
        if (settings is not null)
        {
            Fields(settings, CompletionFields, at, errors);
        }

        var mode = settings is null ? Text(node) : settings["mode"] is { } m ? Text(m) : null;
        var completion = mode switch
        {
            "answer" => StepCompletion.Answer,
            "poll" => StepCompletion.Poll,
            "callback" => StepCompletion.Callback,
            _ => (StepCompletion?)null,
        };
        if (completion is null)
        {
            errors.Add(new WorkflowError(settings is null ? at : $"{at}.mode", "must be \"answer\", \"poll\" or \"callback\""));
            return DefaultPolicy;
        }

        var interval = TimeSpan.FromSeconds(1);
        if (settings?["pollInterval"] is { } given)
        {
            if (completion != StepCompletion.Poll)
            {
                errors.Add(new WorkflowError($"{at}.pollInterval", "applies to \"poll\" only"));
            }

            interval = Span(given, $"{at}.pollInterval", TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(10), errors) ?? interval;
        }

        // An accepted call is given a minute by default: long-running participants say how long they need.
        return DefaultPolicy with
        {
            Completion = completion.Value,
            PollInterval = completion == StepCompletion.Poll ? interval : default,
            Timeout = completion == StepCompletion.Answer ? DefaultPolicy.Timeout : TimeSpan.FromMinutes(1),
        };
    }

    /// <summary>A duration: a number with ms, s, m or h (<c>250ms</c>, <c>1.5s</c>, <c>5m</c>).</summary>
    public static bool TryDuration(string text, out TimeSpan value)
    {
        value = default;
        var match = Duration().Match(text);
        if (!match.Success)
        {
            return false;
        }

        var number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        value = match.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(number),
            "s" => TimeSpan.FromSeconds(number),
            "m" => TimeSpan.FromMinutes(number),
            _ => TimeSpan.FromHours(number),
        };
        return true;
    }

    private static TimeSpan? Span(JsonNode node, string at, TimeSpan min, TimeSpan max, ImmutableArray<WorkflowError>.Builder errors)
    {
        if (Text(node) is { } text && TryDuration(text, out var value) && value >= min && value <= max)
        {
            return value;
        }

        errors.Add(new WorkflowError(at, $"must be a duration from {Show(min)} to {Show(max)}, such as \"250ms\", \"2s\" or \"5m\""));
        return null;
    }

    private static int? Whole(JsonNode node, string at, int min, int max, ImmutableArray<WorkflowError>.Builder errors)
    {
        if (node is JsonValue v && v.TryGetValue<int>(out var value) && value >= min && value <= max)
        {
            return value;
        }

        errors.Add(new WorkflowError(at, $"must be a whole number from {min} to {max}"));
        return null;
    }

    private static bool Flag(JsonNode? node, string at, ImmutableArray<WorkflowError>.Builder errors)
    {
        if (node is null)
        {
            return false;
        }

        if (node is JsonValue v && v.TryGetValue<bool>(out var value))
        {
            return value;
        }

        errors.Add(new WorkflowError(at, "must be true or false"));
        return false;
    }

    private static SagaCommand? Missing(string at, ImmutableArray<WorkflowError>.Builder errors)
    {
        errors.Add(new WorkflowError(at, "is missing: every step has an action"));
        return null;
    }

    private static void Fields(JsonObject node, string[] known, string at, ImmutableArray<WorkflowError>.Builder errors)
    {
        foreach (var (key, _) in node)
        {
            if (!known.Contains(key, StringComparer.Ordinal))
            {
                errors.Add(new WorkflowError(at.Length == 0 ? key : $"{at}.{key}", $"is not a field here; the fields are {string.Join(", ", known)}"));
            }
        }
    }

    private static string? Text(JsonNode node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Show(TimeSpan span) => span.TotalHours >= 1 ? $"{span.TotalHours:0.#}h" : span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#}m" : span.TotalSeconds >= 1 ? $"{span.TotalSeconds:0.#}s" : $"{span.TotalMilliseconds:0}ms";
}

/// <summary>One thing wrong with a workflow document: where (<c>steps[1].action.url</c>, empty for the whole) and what.</summary>
public sealed record WorkflowError(string Path, string Message)
{
    public override string ToString() => Path.Length == 0 ? Message : $"{Path}: {Message}";
}
