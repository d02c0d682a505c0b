using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Reliability.Infrastructure;
using Reliability.Projections.Scripts;

namespace Reliability.Silo.Http.Projections;

/// <summary>
/// Event ingestion for services that are not ours: an admin makes an open store, and services append
/// their events to streams in it and read them back. See docs/projections.md for the contract.
/// </summary>
public static class StreamEndpoints
{
    /// <summary>An append's body may not be larger than this (413).</summary>
    public const long MaxBodyBytes = 1024 * 1024;

    /// <summary>An append may not carry more events than this (413).</summary>
    public const int MaxEvents = 500;

    /// <summary>One event's data as JSON may not be larger than this (413).</summary>
    public const int MaxDataBytes = 64 * 1024;

    public const int MaxStreamLength = 200;

    public const int MaxTypeLength = 100;

    public const int MaxReadLimit = 1000;

    public static WebApplication MapStreams(this WebApplication app)
    {
        var streams = app.MapGroup("/api/streams").WithTags("Streams");
        streams.MapPost("/{store}/{stream}", AppendAsync);
        streams.MapGet("/{store}/{stream}", ReadAsync);
        app.MapGet("/api/stores", async (OpenCatalog catalog) => Results.Ok(new { stores = await catalog.ListStoresAsync() })).WithTags("Streams");

        var admin = app.MapGroup("/api/admin/stores").WithTags("Streams admin").AddEndpointFilter<AdminOnlyFilter>();
        admin.MapPut("/{store}", CreateStoreAsync);
        return app;
    }

    private static async Task<IResult> CreateStoreAsync(string store, OpenCatalog catalog, HttpContext http)
    {
        if (!StoreNames.IsValidOpenStore(store))
        {
            return Problems.BadRequest(new FieldError("store", StoreNameRule));
        }

        var (info, created) = await catalog.CreateStoreAsync(store, http.RequestAborted);
        return created ? Results.Created($"/api/stores/{store}", info) : Results.Ok(info);
    }

    private static async Task<IResult> AppendAsync(string store, string stream, HttpRequest request, OpenCatalog catalog, StreamIngestion ingestion)
    {
        if (await CheckStoreAsync(store, catalog, forAppend: true) is { } storeProblem)
        {
            return storeProblem;
        }

        if (CheckStream(stream) is { } streamError)
        {
            return Problems.BadRequest(streamError);
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return TooLarge($"The body is {request.ContentLength} bytes; an append may be at most {MaxBodyBytes}.");
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        var (body, problem) = await JsonBody.ReadAsync<AppendBody>(request);
        if (problem is not null)
        {
            return problem;
        }

        var (expected, events, errors, tooLarge) = Validate(body!);
        if (tooLarge is not null)
        {
            return TooLarge(tooLarge);
        }

        if (errors.Count > 0)
        {
            return Problems.BadRequest(errors);
        }

        var outcome = await ingestion.AppendAsync(store, stream, expected, events, request.HttpContext.RequestAborted);
        return outcome.Status switch
        {
            AppendStatus.Conflict => Problems.Create(StatusCodes.Status409Conflict, "wrong-expected-version", "The append conflicts with the stream.",
                $"Nothing was appended: {outcome.Conflict}.",
                new Dictionary<string, object?> { ["currentVersion"] = outcome.Version, ["expectedVersion"] = expected.ToString() }),
            _ => Answer(outcome, store, stream),
        };
    }

    private static IResult Answer(AppendOutcome outcome, string store, string stream)
    {
        var answer = new { version = outcome.Version, token = outcome.Token!.ToString(), replayed = outcome.Status == AppendStatus.Replayed };
        return outcome.Status == AppendStatus.Appended
            ? Results.Created($"/api/streams/{store}/{Uri.EscapeDataString(stream)}", answer)
            : Results.Ok(answer);
    }

    private static async Task<IResult> ReadAsync(string store, string stream, string? from, string? limit, OpenCatalog catalog, StreamIngestion ingestion, HttpContext http)
    {
        if (await CheckStoreAsync(store, catalog, forAppend: false) is { } storeProblem)
        {
            return storeProblem;
        }

        var errors = new List<FieldError>();
        if (CheckStream(stream) is { } streamError)
        {
            errors.Add(streamError);
        }

        if (!int.TryParse(from ?? "1", NumberStyles.None, CultureInfo.InvariantCulture, out var first) || first < 1)
        {
            errors.Add(new FieldError("from", "must be a version, 1 or more (the first event to read)"));
        }

        if (!int.TryParse(limit ?? "100", NumberStyles.None, CultureInfo.InvariantCulture, out var max) || max is < 1 or > MaxReadLimit)
        {
            errors.Add(new FieldError("limit", $"must be 1 to {MaxReadLimit}"));
        }

        if (errors.Count > 0)
        {
            return Problems.BadRequest(errors);
        }

        var events = await ingestion.ReadAsync(store, stream, first - 1, max, http.RequestAborted);
        return Results.Ok(new
        {
            store,
            stream,
            events = events.Select(e => new
            {
                id = e.CommandId,
                type = e.Type,
                version = e.Version,
                position = e.Position,
                recordedAt = e.RecordedAt,
                data = JsonSerializer.Deserialize<JsonElement>(e.Payload),
            }),
            next = events.Length == max ? events[^1].Version + 1 : (int?)null,
        });
    }

    private const string StoreNameRule = "must be 2 to 40 lower-case letters, digits and underscores, starting with a letter, and not the name of a built-in store";

    /// <summary>404 for a store nobody made; 403 for an append to a built-in service's store (its service alone writes it).</summary>
    private static async Task<IResult?> CheckStoreAsync(string store, OpenCatalog catalog, bool forAppend)
    {
        if (StoreNames.EventStores.Contains(store))
        {
            return forAppend
                ? Problems.Create(StatusCodes.Status403Forbidden, "store-not-open", "This store is not open for appends.",
                    $"Store '{store}' belongs to the built-in {store} service, which alone appends to it; make a store of your own with PUT /api/admin/stores/{{name}}.")
                : null;
        }

        return await catalog.FindStoreAsync(store) is null
            ? Problems.NotFound($"No store '{store}'; an admin makes one with PUT /api/admin/stores/{store}.")
            : null;
    }

    private static FieldError? CheckStream(string stream) =>
        stream.Length is 0 or > MaxStreamLength || !stream.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '@')
            ? new FieldError("stream", $"must be 1-{MaxStreamLength} letters, digits, '-', '_', '.', ':' or '@'")
            : null;

    private static (ExpectedVersion Expected, List<IncomingEvent> Events, List<FieldError> Errors, string? TooLarge) Validate(AppendBody body)
    {
        var errors = new List<FieldError>();
        var expected = ExpectedVersion.Any;
        switch (body.ExpectedVersion)
        {
            case null:
                break;
            case { ValueKind: JsonValueKind.String } text when text.GetString() == "any":
                break;
            case { ValueKind: JsonValueKind.String } text when text.GetString() == "none":
                expected = ExpectedVersion.None;
                break;
            case { ValueKind: JsonValueKind.Number } number when number.TryGetInt32(out var version) && version >= 0:
                expected = new ExpectedVersion(version);
                break;
            default:
                errors.Add(new FieldError("expectedVersion", "must be a version (0 or more), \"any\" or \"none\""));
                break;
        }

        var events = new List<IncomingEvent>();
        if (body.Events is not { Count: > 0 } incoming)
        {
            errors.Add(new FieldError("events", "must be a non-empty array of {id, type, data}"));
            return (expected, events, errors, null);
        }

        if (incoming.Count > MaxEvents)
        {
            return (expected, events, errors, $"The append has {incoming.Count} events; at most {MaxEvents} go in one append.");
        }

        var ids = new HashSet<Guid>();
        for (var i = 0; i < incoming.Count; i++)
        {
            var e = incoming[i];
            var at = $"events[{i}]";
            if (e is null)
            {
                errors.Add(new FieldError(at, "must be an object {id, type, data}"));
                continue;
            }

            if (!Guid.TryParse(e.Id, out var id) || id == Guid.Empty)
            {
                errors.Add(new FieldError($"{at}.id", "must be a UUID chosen by the client (the same on every retry)"));
            }
            else if (!ids.Add(id))
            {
                errors.Add(new FieldError($"{at}.id", "appears twice in this append"));
            }

            if (e.Type is not { Length: > 0 } type || type.Length > MaxTypeLength || !char.IsAsciiLetter(type[0])
                || !type.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                errors.Add(new FieldError($"{at}.type", $"must be 1-{MaxTypeLength} letters, digits, '_', '.' or '-', starting with a letter"));
            }

            string? data = null;
            if (e.Data is not { } element || element.ValueKind == JsonValueKind.Undefined)
            {
                errors.Add(new FieldError($"{at}.data", "is required (any JSON value)"));
            }
            else
            {
                data = element.GetRawText();
                if (data.Length > MaxDataBytes)
                {
                    return (expected, events, errors, $"{at}.data is {data.Length} bytes of JSON; an event's data may be at most {MaxDataBytes}.");
                }

                if (data.Contains("\\u0000", StringComparison.Ordinal))
                {
                    // PostgreSQL's jsonb cannot hold the NUL character.
                    errors.Add(new FieldError($"{at}.data", "may not contain the NUL character (\\u0000)"));
                }
            }

            if (errors.Count == 0)
            {
                events.Add(new IncomingEvent(id, e.Type!, data!));
            }
        }

        return (expected, events, errors, null);
    }

    private static IResult TooLarge(string detail) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, "body-too-large", "The append is too large.", detail);

    private sealed record AppendBody(JsonElement? ExpectedVersion, List<EventBody?>? Events);

    private sealed record EventBody(string? Id, string? Type, JsonElement? Data);
}
