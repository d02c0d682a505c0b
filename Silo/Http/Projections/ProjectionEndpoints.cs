using System.Collections.Immutable;
using System.Globalization;
using Reliability.Projections;
using Reliability.Projections.Scripts;

namespace Reliability.Silo.Http.Projections;

/// <summary>
/// The read side: views built by the projections, answered from their grains. Every view query takes
/// <c>after</c> (consistency tokens from a command's response, <c>store:position,…</c>) and <c>wait</c>
/// (seconds, at most 30; 5 by default when <c>after</c> is given): the answer waits until the view has
/// applied those events, or comes back with <c>stale: true</c>. <c>rebuilding: true</c> says a rebuild is
/// in progress (the answer still comes from the complete previous generation).
/// </summary>
public static class ProjectionEndpoints
{
    public static WebApplication MapProjections(this WebApplication app)
    {
        var views = app.MapGroup("/api").WithTags("Views");
        views.MapGet("/customers/{customerId}/orders", (string customerId, string? after, string? wait, IGrainFactory grains) =>
            ReadAsync(customerId, "customerId", after, wait, (tokens, w) => grains.ReadCustomerOrdersAsync(customerId, tokens, w), $"customer '{customerId}'"));
        views.MapGet("/orders/{orderId}/summary", (string orderId, string? after, string? wait, IGrainFactory grains) =>
            ReadAsync(orderId, "orderId", after, wait, (tokens, w) => grains.ReadOrderSummaryAsync(orderId, tokens, w), $"order '{orderId}'"));
        views.MapGet("/accounts/{accountId}/statement", (string accountId, string? after, string? wait, IGrainFactory grains) =>
            ReadAsync(accountId, "accountId", after, wait, (tokens, w) => grains.ReadStatementAsync(accountId, tokens, w), $"account '{accountId}'"));
        views.MapGet("/totals", (string? after, string? wait, IGrainFactory grains) =>
            ReadAsync("all", "totals", after, wait, grains.ReadTotalsAsync, "totals"));

        var projections = app.MapGroup("/api/projections").WithTags("Projections");
        projections.MapGet("/", async (IGrainFactory grains, OpenCatalog catalog) =>
        {
            var names = ProjectionDefinitions.Names.Concat((await catalog.ListAsync()).Select(s => s.Name));
            return Results.Ok(new { projections = await Task.WhenAll(names.Select(p => grains.GetGrain<IProjectionRunnerGrain>(p).GetStatus())) });
        });
        projections.MapGet("/{name}", (string name, IGrainFactory grains, OpenCatalog catalog) =>
            WithRunner(name, grains, catalog, async runner => Results.Ok(await runner.GetStatus())));

        var admin = app.MapGroup("/api/admin/projections").WithTags("Projections admin").AddEndpointFilter<AdminOnlyFilter>();
        admin.MapPost("/{name}/rebuild", (string name, IGrainFactory grains, OpenCatalog catalog) =>
            WithRunner(name, grains, catalog, async runner => Results.Accepted($"/api/projections/{name}", await runner.Rebuild())));
        admin.MapPost("/{name}/replay-parked", (string name, IGrainFactory grains, OpenCatalog catalog) =>
            WithRunner(name, grains, catalog, async runner =>
            {
                var replayed = await runner.ReplayParked();
                return Results.Ok(new { replayed, stillParked = (await runner.GetStatus()).Parked });
            }));
        admin.MapGet("/{name}/parked", (string name, string? limit, IGrainFactory grains, OpenCatalog catalog) =>
            int.TryParse(limit ?? "100", NumberStyles.None, CultureInfo.InvariantCulture, out var max) && max is >= 1 and <= 1000
                ? WithRunner(name, grains, catalog, async runner => Results.Ok(new { parked = await runner.GetParked(max) }))
                : Task.FromResult<IResult>(Problems.BadRequest(new FieldError("limit", "must be 1 to 1000"))));
        return app;
    }

    private static async Task<IResult> ReadAsync<T>(
        string id, string field, string? after, string? wait, Func<ImmutableArray<ConsistencyToken>, TimeSpan, Task<ViewRead<T>>> read, string what)
    {
        if (field != "totals" && Ids.Check(id, field) is { } badId)
        {
            return Problems.BadRequest(badId);
        }

        var (tokens, maxWait, problem) = ViewReads.Parse(after, wait);
        if (problem is not null)
        {
            return problem;
        }

        var answer = await read(tokens, maxWait);
        return answer.View is null
            ? Problems.Create(StatusCodes.Status404NotFound, "not-found", "Not found.",
                answer.Stale ? $"No {what} in the view yet: it has not caught up with the given tokens." : $"No {what} in the view.",
                new Dictionary<string, object?> { ["stale"] = answer.Stale, ["rebuilding"] = answer.Rebuilding })
            : Results.Ok(answer);
    }

    private static async Task<IResult> WithRunner(string name, IGrainFactory grains, OpenCatalog catalog, Func<IProjectionRunnerGrain, Task<IResult>> action) =>
        ProjectionDefinitions.Names.Contains(name) || await catalog.FindAsync(name) is not null
            ? await action(grains.GetGrain<IProjectionRunnerGrain>(name))
            : Problems.NotFound($"No projection '{name}'; the built-in ones are {string.Join(", ", ProjectionDefinitions.Names)}, and no JavaScript projection has that name.");
}

/// <summary>The read-your-writes parameters every view query takes: <c>after</c> (tokens) and <c>wait</c> (seconds).</summary>
public static class ViewReads
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(5);

    public static (ImmutableArray<ConsistencyToken> Tokens, TimeSpan Wait, IResult? Problem) Parse(string? after, string? wait)
    {
        if (!ConsistencyToken.TryParseList(after, out var tokens))
        {
            return ([], TimeSpan.Zero, Problems.BadRequest(new FieldError("after", "must be up to 16 tokens store:position, comma-separated, each naming an event store and a position of 1 or more")));
        }

        var maxWait = tokens.IsEmpty ? TimeSpan.Zero : DefaultWait;
        if (wait is not null)
        {
            // TryParse accepts "NaN" and "Infinity" whatever the styles; TimeSpan does not.
            if (!double.TryParse(wait, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
                || !double.IsFinite(seconds) || seconds < 0 || seconds > ViewQueries.MaxWait.TotalSeconds)
            {
                return (tokens, TimeSpan.Zero, Problems.BadRequest(new FieldError("wait", $"must be 0 to {ViewQueries.MaxWait.TotalSeconds:0} seconds")));
            }

            maxWait = TimeSpan.FromSeconds(seconds);
        }

        return (tokens, maxWait, null);
    }
}
