using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Reliability.Client.Commands.Gateway;
using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands.Projections;

/// <summary>
/// The doors other services use, over HTTP as they would: open stores, appends and reads of streams,
/// JavaScript projections, and their views.
/// </summary>
public static class OpenApi
{
    /// <summary>Sends the request and gives back the JSON answer; an error answer becomes a command error with the problem's detail.</summary>
    public static async Task<(int Status, JsonElement Body)> SendAsync(ApiClient api, HttpMethod method, string path, string? json, string? adminToken, CancellationToken cancellationToken, int silo = 0,
        string contentType = "application/json", IReadOnlyDictionary<string, string>? headers = null)
    {
        var all = new Dictionary<string, string>(GatewayTry.AdminHeaders(adminToken));
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            all[name] = value;
        }

        using var response = await api.SendAsync(method, silo, path, json, all, cancellationToken, contentType);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        if (!response.IsSuccessStatusCode)
        {
            var detail = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array
                ? string.Concat(errors.EnumerateArray().Select(e => $"{Environment.NewLine}  {e.GetProperty("path").GetString()}: {e.GetProperty("message").GetString()}"))
                : body.ValueKind == JsonValueKind.Object && body.TryGetProperty("detail", out var d) ? d.GetString() : text;
            throw new CommandException($"{method} {path} answered {(int)response.StatusCode}: {detail}");
        }

        return ((int)response.StatusCode, body);
    }

    /// <summary>Text given as is, or read from a file when it starts with '@'.</summary>
    public static string TextOrFile(string value, string option) =>
        value.StartsWith('@')
            ? File.Exists(value[1..]) ? File.ReadAllText(value[1..]) : throw new CommandException($"{option}: no file '{value[1..]}'.")
            : value;

    public static string Pretty(JsonElement element) => JsonSerializer.Serialize(element, new JsonSerializerOptions { WriteIndented = true });
}

public class OpenSettings : ClusterSettings
{
    [CommandOption("--admin-token <TOKEN>")]
    [Description("The silos' Admin:Token, for admin calls (without it they answer loopback callers only). Default: $RELIABILITY_ADMIN_TOKEN.")]
    public string? AdminToken { get; init; }
}

public sealed class StoreSettings : OpenSettings
{
    [CommandArgument(0, "<STORE>")]
    [Description("2-40 lower-case letters, digits and underscores, starting with a letter.")]
    public string Store { get; init; } = "";
}

/// <summary><c>store create NAME</c></summary>
public sealed class StoreCreateCommand : AsyncCommand<StoreSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, StoreSettings settings, CancellationToken cancellationToken)
    {
        using var api = ApiClient.For(settings.Target());
        var (status, _) = await OpenApi.SendAsync(api, HttpMethod.Put, $"/api/admin/stores/{Uri.EscapeDataString(settings.Store)}", null, settings.AdminToken, cancellationToken);
        AnsiConsole.MarkupLine(status == 201
            ? $"Store [bold]{Markup.Escape(settings.Store)}[/] is made: append with [bold]stream append {Markup.Escape(settings.Store)} STREAM --type T --data JSON[/]."
            : $"Store [bold]{Markup.Escape(settings.Store)}[/] existed already; nothing changed.");
        return 0;
    }
}

/// <summary><c>store list</c></summary>
public sealed class StoreListCommand : AsyncCommand<OpenSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, OpenSettings settings, CancellationToken cancellationToken)
    {
        using var api = ApiClient.For(settings.Target());
        var (_, body) = await OpenApi.SendAsync(api, HttpMethod.Get, "/api/stores", null, settings.AdminToken, cancellationToken);
        var table = new Table().Title("open stores").AddColumns("store", "made at (UTC)");
        foreach (var store in body.GetProperty("stores").EnumerateArray())
        {
            table.AddRow(store.GetProperty("name").GetString()!, store.GetProperty("createdAt").GetDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        return 0;
    }
}

public class StreamSettings : OpenSettings
{
    [CommandArgument(0, "<STORE>")]
    public string Store { get; init; } = "";

    [CommandArgument(1, "<STREAM>")]
    public string Stream { get; init; } = "";
}

public sealed class StreamAppendSettings : StreamSettings
{
    [CommandOption("-t|--type <TYPE>")]
    [Description("The event's type (with --data), e.g. OrderPlaced.")]
    public string? Type { get; init; }

    [CommandOption("-d|--data <JSON>")]
    [Description("The event's data as JSON, or @file.")]
    public string? Data { get; init; }

    [CommandOption("--id <UUID>")]
    [Description("The event's id (send the same one to retry safely). Default: a new one.")]
    public string? Id { get; init; }

    [CommandOption("--events <JSON>")]
    [Description("Instead of --type/--data: a JSON array of {id, type, data}, or @file.")]
    public string? Events { get; init; }

    [CommandOption("-e|--expected-version <VERSION>")]
    [Description("any (default), none (a new stream) or the version the stream must be at.")]
    [DefaultValue("any")]
    public string ExpectedVersion { get; init; } = "any";
}

/// <summary><c>stream append STORE STREAM --type T --data JSON</c></summary>
public sealed class StreamAppendCommand : AsyncCommand<StreamAppendSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, StreamAppendSettings settings, CancellationToken cancellationToken)
    {
        string events;
        if (settings.Events is not null)
        {
            events = OpenApi.TextOrFile(settings.Events, "--events");
        }
        else if (settings.Type is not null && settings.Data is not null)
        {
            var data = OpenApi.TextOrFile(settings.Data, "--data");
            try
            {
                using var _ = JsonDocument.Parse(data);
            }
            catch (JsonException ex)
            {
                throw new CommandException($"--data is not JSON: {ex.Message}");
            }

            events = $$"""[{"id":{{JsonSerializer.Serialize(settings.Id ?? Guid.NewGuid().ToString())}},"type":{{JsonSerializer.Serialize(settings.Type)}},"data":{{data}}}]""";
        }
        else
        {
            throw new CommandException("Give --type and --data (one event), or --events (a JSON array of {id, type, data}).");
        }

        var expected = settings.ExpectedVersion is "any" or "none" ? JsonSerializer.Serialize(settings.ExpectedVersion)
            : int.TryParse(settings.ExpectedVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version.ToString(CultureInfo.InvariantCulture)
            : throw new CommandException($"--expected-version must be any, none or a version (got '{settings.ExpectedVersion}').");
        using var api = ApiClient.For(settings.Target());
        var (status, body) = await OpenApi.SendAsync(api, HttpMethod.Post, StreamPath(settings), $$"""{"expectedVersion":{{expected}},"events":{{events}}}""", settings.AdminToken, cancellationToken);
        AnsiConsole.MarkupLine($"{(status == 201 ? "appended" : "[yellow]already appended (same event ids): nothing written again[/]")}: " +
                               $"{Markup.Escape(settings.Store)}/{Markup.Escape(settings.Stream)} is at version [bold]{body.GetProperty("version").GetInt32()}[/], " +
                               $"token [bold]{body.GetProperty("token").GetString()}[/] (read views with --after it)");
        return 0;
    }

    internal static string StreamPath(StreamSettings settings) => $"/api/streams/{Uri.EscapeDataString(settings.Store)}/{Uri.EscapeDataString(settings.Stream)}";
}

public sealed class StreamReadSettings : StreamSettings
{
    [CommandOption("--from <VERSION>")]
    [DefaultValue(1)]
    public int From { get; init; } = 1;

    [CommandOption("-n|--limit <N>")]
    [DefaultValue(100)]
    public int Limit { get; init; } = 100;
}

/// <summary><c>stream read STORE STREAM</c></summary>
public sealed class StreamReadCommand : AsyncCommand<StreamReadSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, StreamReadSettings settings, CancellationToken cancellationToken)
    {
        using var api = ApiClient.For(settings.Target());
        var path = $"{StreamAppendCommand.StreamPath(settings)}?from={settings.From}&limit={settings.Limit}";
        var (_, body) = await OpenApi.SendAsync(api, HttpMethod.Get, path, null, settings.AdminToken, cancellationToken);
        var table = new Table().Title($"{Markup.Escape(settings.Store)}/{Markup.Escape(settings.Stream)}").AddColumns("version", "position", "type", "id", "data");
        foreach (var e in body.GetProperty("events").EnumerateArray())
        {
            table.AddRow(e.GetProperty("version").ToString(), e.GetProperty("position").ToString(), Markup.Escape(e.GetProperty("type").GetString()!),
                Markup.Escape(e.GetProperty("id").GetString() ?? ""), Markup.Escape(e.GetProperty("data").GetRawText()));
        }

        AnsiConsole.Write(table);
        return 0;
    }
}

public sealed class ProjectionPutSettings : OpenSettings
{
    [CommandArgument(0, "<NAME>")]
    public string Name { get; init; } = "";

    [CommandOption("-s|--script <JS>")]
    [Description("The projection's JavaScript, or @file.js.")]
    public string Script { get; init; } = "";

    [CommandOption("--stores <STORES>")]
    [Description("Comma-separated stores the script reads, checked against its fromStores.")]
    public string? Stores { get; init; }
}

/// <summary><c>projection put NAME --script @file.js</c>: registers a version and follows its build until it is live (or held back).</summary>
public sealed class ProjectionPutCommand : AsyncCommand<ProjectionPutSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProjectionPutSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Script.Length == 0)
        {
            throw new CommandException("Give the script with --script 'fromStores(…)…' or --script @file.js.");
        }

        var script = OpenApi.TextOrFile(settings.Script, "--script");
        var stores = settings.Stores?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        using var api = ApiClient.For(settings.Target());
        var (status, body) = await OpenApi.SendAsync(api, HttpMethod.Put, $"/api/admin/projections/{Uri.EscapeDataString(settings.Name)}",
            JsonSerializer.Serialize(new { script, stores }), settings.AdminToken, cancellationToken);
        var version = body.GetProperty("version").GetInt32();
        AnsiConsole.MarkupLine(status == 201
            ? $"[green]{Markup.Escape(settings.Name)}[/] version [bold]{version}[/] registered, reading {string.Join(", ", body.GetProperty("stores").EnumerateArray().Select(s => s.GetString()))}."
            : $"{Markup.Escape(settings.Name)}: version {version} has this script already; nothing changed.");
        return await FollowAsync(api, settings.Name, version, settings.AdminToken, cancellationToken);
    }

    /// <summary>Waits (up to a minute) until the version is live, or says why it is held back.</summary>
    public static async Task<int> FollowAsync(ApiClient api, string name, int version, string? adminToken, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            var (_, status) = await OpenApi.SendAsync(api, HttpMethod.Get, $"/api/projections/{Uri.EscapeDataString(name)}", null, adminToken, cancellationToken);
            if (status.TryGetProperty("liveVersion", out var live) && live.ValueKind == JsonValueKind.Number && live.GetInt32() >= version)
            {
                AnsiConsole.MarkupLine($"version {version} is live (generation {status.GetProperty("liveGeneration").GetInt32()}).");
                return 0;
            }

            if (status.TryGetProperty("held", out var held) && held.ValueKind == JsonValueKind.String)
            {
                AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(held.GetString()!)}[/]");
                return 1;
            }

            await Task.Delay(200, cancellationToken);
        }

        AnsiConsole.MarkupLine($"[yellow]version {version} is still being built after a minute; see projection status {Markup.Escape(name)}.[/]");
        return 1;
    }
}

public sealed class ViewGetSettings : OpenSettings
{
    [CommandArgument(0, "<PROJECTION>")]
    public string Projection { get; init; } = "";

    [CommandArgument(1, "[KEY]")]
    [Description("The view's key (the script's partitionBy); 'all' for a projection without one. Left out: list the views.")]
    public string? Key { get; init; }

    [CommandOption("-a|--after <TOKENS>")]
    [Description("Consistency tokens from appends (store:position, comma-separated): wait until the view includes them.")]
    public string? After { get; init; }

    [CommandOption("-w|--wait <SECONDS>")]
    [DefaultValue(5.0)]
    public double Wait { get; init; } = 5;

    [CommandOption("--prefix <PREFIX>")]
    [Description("When listing: only keys that start with it.")]
    public string? Prefix { get; init; }
}

/// <summary><c>view get PROJECTION [KEY]</c>: one view of a JavaScript projection (exit code 1 when stale), or a list of them.</summary>
public sealed class ViewGetCommand : AsyncCommand<ViewGetSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ViewGetSettings settings, CancellationToken cancellationToken)
    {
        using var api = ApiClient.For(settings.Target());
        var projection = Uri.EscapeDataString(settings.Projection);
        if (settings.Key is null)
        {
            var (_, list) = await OpenApi.SendAsync(api, HttpMethod.Get, $"/api/views/{projection}?limit=100&prefix={Uri.EscapeDataString(settings.Prefix ?? "")}", null, settings.AdminToken, cancellationToken);
            var table = new Table().Title($"views of {Markup.Escape(settings.Projection)}").AddColumns("key", "events", "state");
            foreach (var view in list.GetProperty("views").EnumerateArray())
            {
                table.AddRow(Markup.Escape(view.GetProperty("key").GetString()!), view.GetProperty("events").ToString(), Markup.Escape(view.GetProperty("state").GetRawText()));
            }

            AnsiConsole.Write(table);
            return 0;
        }

        var query = settings.After is null ? "" : $"?after={Uri.EscapeDataString(settings.After)}&wait={settings.Wait.ToString(CultureInfo.InvariantCulture)}";
        var (_, body) = await OpenApi.SendAsync(api, HttpMethod.Get, $"/api/views/{projection}/{Uri.EscapeDataString(settings.Key)}{query}", null, settings.AdminToken, cancellationToken);
        var stale = body.GetProperty("stale").GetBoolean();
        AnsiConsole.Write(new Panel(Markup.Escape(OpenApi.Pretty(body.GetProperty("state")))).Header($"{Markup.Escape(settings.Projection)}/{Markup.Escape(settings.Key)}"));
        AnsiConsole.MarkupLine($"script version {body.GetProperty("version")}, {body.GetProperty("events")} events folded.");
        AnsiConsole.MarkupLine(stale ? "[yellow]stale: the view has not applied the given tokens yet[/]" : settings.After is null ? "" : "[green]includes the given tokens[/]");
        return stale ? 1 : 0;
    }
}
