using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Reliability.Sagas;
using Reliability.Sagas.Workflows;
using Reliability.Silo.Http.Idempotency;

namespace Reliability.Silo.Http.Sagas;

/// <summary>
/// Registered workflows: an admin registers versions (JSON or YAML), anyone lists them and starts sagas
/// of the latest version behind an Idempotency-Key (one key starts at most one saga). The sagas are then
/// read, retried and cancelled through <c>/api/sagas</c> like the built-in ones.
/// </summary>
public static class WorkflowEndpoints
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(2);

    public static WebApplication MapWorkflows(this WebApplication app)
    {
        var admin = app.MapGroup("/api/admin/workflows").WithTags("Workflows admin").AddEndpointFilter<AdminOnlyFilter>();
        admin.MapPut("/{name}", PutAsync);
        admin.MapDelete("/{name}/versions/{version}", DeleteAsync);

        var workflows = app.MapGroup("/api/workflows").WithTags("Workflows");
        workflows.MapGet("/", ListAsync);
        workflows.MapGet("/{name}", GetAsync);
        workflows.MapGet("/{name}/versions/{version}", GetVersionAsync);
        workflows.MapPost("/{name}/sagas", StartAsync).RequireIdempotencyKey();
        return app;
    }

    /// <summary>2-50 lower-case letters, digits and '-', starting with a letter: it is also the kind sagas are listed under.</summary>
    public static bool IsValidName(string name) =>
        name.Length is >= 2 and <= 50 && name[0] is >= 'a' and <= 'z' && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    private static async Task<IResult> PutAsync(string name, HttpRequest request, WorkflowCatalog catalog, IOptions<SagaOptions> options)
    {
        if (NameProblem(name) is { } invalid)
        {
            return invalid;
        }

        var contentType = request.ContentType ?? "";
        var yaml = contentType.Contains("yaml", StringComparison.OrdinalIgnoreCase);
        if (!yaml && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Send JSON or YAML.",
                "A workflow definition is application/json, or YAML (application/yaml).");
        }

        var (text, tooLarge) = await ReadLimitedAsync(request, options.Value.Http.MaxDefinitionBytes);
        if (tooLarge)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "body-too-large", "The definition is too large.",
                $"A workflow definition is at most {options.Value.Http.MaxDefinitionBytes} bytes (Sagas:Http:MaxDefinitionBytes).");
        }

        var (document, unreadable) = WorkflowParser.ReadDocument(text, yaml);
        if (document is null)
        {
            return Invalid([unreadable!]);
        }

        try
        {
            var (registration, errors) = await catalog.RegisterAsync(name, document);
            if (registration is null)
            {
                return Invalid(errors);
            }

            var answer = new { name, version = registration.Version, created = registration.Created, location = $"/api/workflows/{name}/versions/{registration.Version}" };
            return registration.Created ? Results.Created(answer.location, answer) : Results.Ok(answer);
        }
        catch (WorkflowVersionConflictException ex)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "version-conflict", "Another version was registered first.",
                $"The document says version {document["version"]}, but the next version of '{name}' is {ex.Latest + 1}.",
                new Dictionary<string, object?> { ["latestVersion"] = ex.Latest });
        }
    }

    private static async Task<IResult> ListAsync(IWorkflowStore store)
    {
        var registered = (await store.ListAsync(null)).GroupBy(w => w.Name).Select(g => new WorkflowListing(
            g.Key, false, g.Where(w => w.DeletedAt is null).Select(w => (int?)w.Version).FirstOrDefault(), Description(g.First().Document), g.Select(Summary)));
        var builtIn = WorkflowCatalog.BuiltInNames.Select(name => new WorkflowListing(name, true, 1, Description(BuiltInWorkflows.Document(name)!), [BuiltInSummary(name)]));
        return Results.Ok(new { workflows = builtIn.Concat(registered) });
    }

    private static async Task<IResult> GetAsync(string name, IWorkflowStore store)
    {
        if (BuiltInWorkflows.Document(name) is { } builtIn)
        {
            return Results.Ok(new { name, builtIn = true, latestVersion = 1, versions = new[] { BuiltInSummary(name) }, document = builtIn });
        }

        var versions = await store.ListAsync(name);
        if (versions.Count == 0)
        {
            return Problems.NotFound($"No workflow '{name}'.");
        }

        var latest = versions.FirstOrDefault(v => v.DeletedAt is null);
        return Results.Ok(new { name, builtIn = false, latestVersion = latest?.Version, versions = versions.Select(Summary), document = latest?.Document });
    }

    private static async Task<IResult> GetVersionAsync(string name, string version, IWorkflowStore store)
    {
        if (VersionOf(version) is not { } number)
        {
            return Problems.BadRequest(new FieldError("version", "must be a version number, 1 or more"));
        }

        if (BuiltInWorkflows.Document(name) is { } builtIn)
        {
            return number == 1
                ? Results.Ok(new { name, version = 1, builtIn = true, document = builtIn })
                : Problems.NotFound($"Built-in workflow '{name}' has version 1 only.");
        }

        return await store.GetAsync(name, number) is { } found
            ? Results.Ok(new { name, version = found.Version, createdAt = found.CreatedAt, deletedAt = found.DeletedAt, document = found.Document })
            : Problems.NotFound($"Workflow '{name}' has no version {number}.");
    }

    private static async Task<IResult> DeleteAsync(string name, string version, IWorkflowStore store, TimeProvider time)
    {
        if (VersionOf(version) is not { } number)
        {
            return Problems.BadRequest(new FieldError("version", "must be a version number, 1 or more"));
        }

        if (await store.GetAsync(name, number) is not { DeletedAt: null })
        {
            return Problems.NotFound($"Workflow '{name}' has no live version {number}.");
        }

        var inUse = await store.DeleteAsync(name, number, time.GetUtcNow());
        return inUse == 0
            ? Results.NoContent()
            : Problems.Create(StatusCodes.Status409Conflict, "version-in-use", "Sagas still run this version.",
                $"{inUse} running or parked saga(s) use version {number} of '{name}'; it can be deleted once they have ended.",
                new Dictionary<string, object?> { ["sagas"] = inUse });
    }

    /// <summary>
    /// The body is the saga's input. 201 with the saga when it ended within the wait (2 s, or <c>Prefer: wait=N</c>
    /// up to a minute), else 202; either way Location is the saga.
    /// </summary>
    private static async Task<IResult> StartAsync(string name, HttpContext http, WorkflowCatalog catalog, IGrainFactory grains, IOptions<SagaOptions> options)
    {
        if (!(http.Request.ContentType ?? "").StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Send JSON.",
                "The saga's input is the request body, as application/json.");
        }

        var limit = options.Value.Http.MaxInputBytes;
        var (text, tooLarge) = await ReadLimitedAsync(http.Request, limit);
        if (tooLarge)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "body-too-large", "The input is too large.",
                $"A saga's input is at most {limit} bytes (Sagas:Http:MaxInputBytes).");
        }

        JsonElement input;
        try
        {
            using var parsed = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 32 });
            input = parsed.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return Problems.BadRequest(new FieldError("input", $"is not JSON: {ex.Message}"));
        }

        (SagaDefinition? Saga, System.Collections.Immutable.ImmutableArray<WorkflowError> Errors, bool Found) prepared;
        try
        {
            prepared = await catalog.PrepareAsync(name, input);
        }
        catch (InvalidOperationException ex)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "workflow-unusable", "This workflow cannot start sagas now.", ex.Message);
        }

        if (!prepared.Found)
        {
            return Problems.NotFound($"No workflow '{name}'.");
        }

        if (prepared.Saga is null)
        {
            return Problems.BadRequest([.. prepared.Errors.Select(e => new FieldError(e.Path, e.Message))]);
        }

        var sagaId = SagaEndpoints.IdFrom(http, $"{name}-");
        var saga = grains.GetGrain<ISagaGrain>(sagaId);
        var view = await saga.Start(prepared.Saga);
        var wait = IdempotencyGuard.PreferredWait(http.Request) is var preferred && preferred > TimeSpan.Zero ? preferred : DefaultWait;
        var deadline = DateTimeOffset.UtcNow + wait;
        while (!view.Status.IsTerminal() && deadline - DateTimeOffset.UtcNow is var left && left > TimeSpan.Zero)
        {
            view = await saga.WaitForTerminal(left) ?? view;
        }

        return view.Status.IsTerminal()
            ? Results.Created($"/api/sagas/{sagaId}", view)
            : Results.Accepted($"/api/sagas/{sagaId}", view);
    }

    private static IResult? NameProblem(string name) =>
        WorkflowCatalog.BuiltInNames.Contains(name)
            ? Problems.Create(StatusCodes.Status409Conflict, "built-in-workflow", "This workflow is built in.",
                $"'{name}' is a built-in workflow; give yours another name.")
            : !IsValidName(name)
                ? Problems.BadRequest(new FieldError("name", "must be 2-50 lower-case letters, digits or '-', starting with a letter"))
                : null;

    private static IResult Invalid(IEnumerable<WorkflowError> errors) =>
        Problems.Create(StatusCodes.Status400BadRequest, "invalid-workflow", "The workflow definition is invalid.",
            string.Join("; ", errors),
            new Dictionary<string, object?> { ["errors"] = errors.Select(e => new { path = e.Path, message = e.Message }) });

    private static WorkflowVersionSummary Summary(StoredWorkflow w) => new(w.Version, w.CreatedAt, w.DeletedAt, (w.Document["steps"] as JsonArray)?.Count ?? 0);

    private static WorkflowVersionSummary BuiltInSummary(string name) => new(1, null, null, (BuiltInWorkflows.Document(name)!["steps"] as JsonArray)?.Count ?? 0);

    private static string? Description(JsonObject document) => document["description"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;

    /// <summary>One workflow as listed: built in (version 1, shipped with the silo) or registered, with its versions newest first.</summary>
    private sealed record WorkflowListing(string Name, bool BuiltIn, int? LatestVersion, string? Description, IEnumerable<WorkflowVersionSummary> Versions);

    private sealed record WorkflowVersionSummary(int Version, DateTimeOffset? CreatedAt, DateTimeOffset? DeletedAt, int Steps);

    private static int? VersionOf(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 1 ? v : null;

    /// <summary>
    /// The body as text, or that it is over <paramref name="limit"/> bytes (without reading more than that). The
    /// endpoint's own limit replaces Kestrel's general one (Http:MaxRequestBodyBytes), which is lower than a definition's.
    /// </summary>
    private static async Task<(string Text, bool TooLarge)> ReadLimitedAsync(HttpRequest request, int limit)
    {
        if (request.ContentLength > limit)
        {
            return ("", true);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit + 1L;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                return ("", true);
            }
        }

        return (Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), false);
    }
}
