using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Reliability.Projections;
using Reliability.Projections.Scripts;

namespace Reliability.Silo.Http.Projections;

/// <summary>
/// JavaScript projections: registered (and given new versions) by an admin, and read by anyone through
/// <c>/api/views/{projection}</c>, with the same <c>after</c>/<c>wait</c> read-your-writes as the built-in views.
/// </summary>
public static class ScriptProjectionEndpoints
{
    public const int MaxListLimit = 100;

    public static WebApplication MapScriptProjections(this WebApplication app)
    {
        var admin = app.MapGroup("/api/admin/projections").WithTags("Projections admin").AddEndpointFilter<AdminOnlyFilter>();
        admin.MapPut("/{name}", PutAsync);
        admin.MapGet("/{name}/script", ScriptAsync);

        var views = app.MapGroup("/api/views").WithTags("Views");
        views.MapGet("/{projection}/{key}", GetAsync);
        views.MapGet("/{projection}", ListAsync);
        return app;
    }

    /// <summary>True for a name a script may take: 2-63 lower-case letters, digits, '-' and '_', starting with a letter, not a built-in projection's.</summary>
    public static bool IsValidName(string name) =>
        name.Length is >= 2 and <= 63 && name[0] is >= 'a' and <= 'z'
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_')
        && !ProjectionDefinitions.Names.Contains(name);

    private static async Task<IResult> PutAsync(string name, HttpRequest request, OpenCatalog catalog, IGrainFactory grains)
    {
        if (ProjectionDefinitions.Names.Contains(name))
        {
            return Problems.Create(StatusCodes.Status409Conflict, "built-in-projection", "This projection is built in.",
                $"'{name}' is a built-in projection, defined in C#; give your script another name.");
        }

        if (!IsValidName(name))
        {
            return Problems.BadRequest(new FieldError("name", "must be 2-63 lower-case letters, digits, '-' or '_', starting with a letter"));
        }

        string? script;
        List<string>? stores = null;
        var contentType = request.ContentType ?? "";
        if (contentType.StartsWith("application/javascript", StringComparison.OrdinalIgnoreCase) || contentType.StartsWith("text/javascript", StringComparison.OrdinalIgnoreCase))
        {
            using var reader = new StreamReader(request.Body);
            script = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        }
        else
        {
            var (body, problem) = await JsonBody.ReadAsync<PutBody>(request);
            if (problem is not null)
            {
                return problem;
            }

            script = body!.Script;
            stores = body.Stores;
        }

        if (string.IsNullOrWhiteSpace(script))
        {
            return Problems.BadRequest(new FieldError("script", "is required: the projection's JavaScript source"));
        }

        (ScriptDefinition Definition, bool Created) registered;
        try
        {
            registered = await catalog.RegisterAsync(name, script, stores);
        }
        catch (ScriptDefinitionException ex)
        {
            return ScriptProblem(ex);
        }
        catch (ScriptStoresMismatchException ex)
        {
            // The script says what it reads; a stores field, when sent, must say the same (a check, not a second source).
            return Problems.BadRequest(new FieldError("stores", ex.Message));
        }

        var runner = grains.GetGrain<IProjectionRunnerGrain>(name);
        await runner.Ensure();
        var status = await runner.Refresh();
        var answer = new { name, version = registered.Definition.Version, stores = registered.Definition.Stores, created = registered.Created, status };
        return registered.Created ? Results.Created($"/api/projections/{name}", answer) : Results.Ok(answer);
    }

    private static async Task<IResult> ScriptAsync(string name, string? version, OpenCatalog catalog)
    {
        int? wanted = null;
        if (version is not null)
        {
            if (!int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < 1)
            {
                return Problems.BadRequest(new FieldError("version", "must be a version number, 1 or more"));
            }

            wanted = v;
        }

        return await catalog.FindAsync(name, wanted) is { } definition
            ? Results.Ok(definition)
            : Problems.NotFound(wanted is null ? $"No JavaScript projection '{name}'." : $"Projection '{name}' has no version {wanted}.");
    }

    private static async Task<IResult> GetAsync(string projection, string key, string? after, string? wait, OpenCatalog catalog, IGrainFactory grains)
    {
        if (ProjectionDefinitions.Find(projection) is { } builtIn)
        {
            return await GetBuiltInAsync(builtIn, key, after, wait, grains);
        }

        if (await CheckProjectionAsync(projection, catalog) is { } missing)
        {
            return missing;
        }

        if (key.Length is 0 or > ScriptProjection.MaxKeyLength)
        {
            return Problems.BadRequest(new FieldError("key", $"must be 1-{ScriptProjection.MaxKeyLength} characters"));
        }

        var (tokens, maxWait, problem) = ViewReads.Parse(after, wait);
        if (problem is not null)
        {
            return problem;
        }

        var (read, generation) = await grains.ReadScriptViewAsync(projection, key, tokens, maxWait);
        var version = (await catalog.ForGenerationAsync(projection, generation))?.Version;
        return read.View is null
            ? Problems.Create(StatusCodes.Status404NotFound, "not-found", "Not found.",
                read.Stale ? $"No view '{key}' in projection '{projection}' yet: it has not caught up with the given tokens." : $"No view '{key}' in projection '{projection}'.",
                new Dictionary<string, object?> { ["stale"] = read.Stale, ["rebuilding"] = read.Rebuilding })
            : Results.Ok(new
            {
                projection,
                key,
                version,
                state = JsonSerializer.Deserialize<JsonElement>(read.View.Json),
                events = read.View.Events,
                updatedAt = read.View.UpdatedAt,
                stale = read.Stale,
                rebuilding = read.Rebuilding,
            });
    }

    /// <summary>A built-in descriptor's view by its typed key written <c>kind:id</c> (<c>order:42</c>, <c>account:alice</c>, or <c>all</c>).</summary>
    private static async Task<IResult> GetBuiltInAsync(ProjectionDefinition projection, string key, string? after, string? wait, IGrainFactory grains)
    {
        var (tokens, maxWait, problem) = ViewReads.Parse(after, wait);
        if (problem is not null)
        {
            return problem;
        }

        var colon = key.IndexOf(':');
        var view = colon < 0 ? new ViewRef(key, null) : new ViewRef(key[..colon], key[(colon + 1)..]);
        if (projection.Read is not { } query || view.Kind.Length == 0 || view.Id is { Length: 0 })
        {
            return Problems.BadRequest(new FieldError("key", "must be kind:id (e.g. order:42, customer:alice, account:alice) or all"));
        }

        var read = await grains.ReadAsync(projection.Name, tokens, maxWait, generation => query(grains, new ViewKey(projection.Name, generation, view)));
        return read.View is null
            ? Problems.Create(StatusCodes.Status404NotFound, "not-found", "Not found.", $"No view '{key}' in projection '{projection.Name}'{(read.Stale ? " yet" : "")}.",
                new Dictionary<string, object?> { ["stale"] = read.Stale, ["rebuilding"] = read.Rebuilding })
            : Results.Ok(new { projection = projection.Name, key, state = read.View, stale = read.Stale, rebuilding = read.Rebuilding });
    }

    private static async Task<IResult> ListAsync(string projection, string? prefix, string? after, string? limit, OpenCatalog catalog, IGrainFactory grains, IProjectionStore store)
    {
        if (await CheckProjectionAsync(projection, catalog) is { } missing)
        {
            return missing;
        }

        if (!int.TryParse(limit ?? "20", NumberStyles.None, CultureInfo.InvariantCulture, out var max) || max is < 1 or > MaxListLimit)
        {
            return Problems.BadRequest(new FieldError("limit", $"must be 1 to {MaxListLimit}"));
        }

        var check = await grains.GetGrain<IProjectionRunnerGrain>(projection).Check([], TimeSpan.Zero);
        IReadOnlyList<string> keys;
        try
        {
            keys = await store.ListViewKeysAsync(projection, check.Generation, prefix ?? "", after, max);
        }
        catch (NotSupportedException ex)
        {
            return Problems.Create(StatusCodes.Status501NotImplemented, "not-supported", "Not supported here.", ex.Message);
        }

        var views = await Task.WhenAll(keys.Select(async key => (key, view: await grains.GetGrain<IScriptViewGrain>(new ViewKey(projection, check.Generation, ViewRef.Partition(key)).GrainKey).Get())));
        return Results.Ok(new
        {
            projection,
            views = views.Where(v => v.view is not null).Select(v => new
            {
                key = v.key,
                state = JsonSerializer.Deserialize<JsonElement>(v.view!.Json),
                events = v.view.Events,
                updatedAt = v.view.UpdatedAt,
            }),
            next = keys.Count == max ? keys[^1] : null,
            rebuilding = check.Rebuilding,
        });
    }

    private static async Task<IResult?> CheckProjectionAsync(string projection, OpenCatalog catalog) =>
        ProjectionDefinitions.Names.Contains(projection)
            ? Problems.NotFound($"'{projection}' is a built-in projection: read its views one by one (GET /api/views/{projection}/kind:id) or through their own routes; listing serves JavaScript projections.")
            : await catalog.FindAsync(projection) is null
                ? Problems.NotFound($"No JavaScript projection '{projection}'; an admin registers one with PUT /api/admin/projections/{projection}.")
                : null;

    private static IResult ScriptProblem(ScriptDefinitionException ex) =>
        Problems.Create(StatusCodes.Status400BadRequest, "invalid-script", "The script is refused.", ex.Message,
            new Dictionary<string, object?> { ["field"] = "script" });

    private sealed record PutBody(string? Script, List<string>? Stores);
}
