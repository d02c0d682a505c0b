using System.ComponentModel;
using System.Text.Json;
using Reliability.Client.Commands.Projections;
using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands.Sagas;

public sealed class WorkflowPutSettings : OpenSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("The definition, JSON or YAML (.yaml, .yml).")]
    public string File { get; init; } = "";

    [CommandOption("--name <NAME>")]
    [Description("The workflow's name; default: the document's name, else the file's name.")]
    public string? Name { get; init; }
}

/// <summary><c>workflow put FILE</c>: registers a definition (a new version if it changed) and shows its steps.</summary>
public sealed class WorkflowPutCommand : AsyncCommand<WorkflowPutSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, WorkflowPutSettings settings, CancellationToken cancellationToken)
    {
        if (!File.Exists(settings.File))
        {
            throw new CommandException($"No file '{settings.File}'.");
        }

        var text = await File.ReadAllTextAsync(settings.File, cancellationToken);
        var yaml = Path.GetExtension(settings.File).ToLowerInvariant() is ".yaml" or ".yml";
        var name = settings.Name ?? NameIn(text, yaml) ?? Path.GetFileNameWithoutExtension(settings.File);
        using var api = ApiClient.For(settings.Target());
        var (status, body) = await OpenApi.SendAsync(api, HttpMethod.Put, $"/api/admin/workflows/{Uri.EscapeDataString(name)}", text, settings.AdminToken,
            cancellationToken, contentType: yaml ? "application/yaml" : "application/json");
        var version = body.GetProperty("version").GetInt32();
        AnsiConsole.MarkupLine(status == 201
            ? $"[green]{Markup.Escape(name)}[/] version [bold]{version}[/] registered: new sagas run it, running ones keep theirs."
            : $"{Markup.Escape(name)}: version {version} is this document already; nothing changed.");
        return 0;
    }

    /// <summary>The document's <c>name</c>, read loosely (the silo checks the document properly).</summary>
    private static string? NameIn(string text, bool yaml)
    {
        if (yaml)
        {
            return text.Split('\n').Select(l => l.TrimEnd()).FirstOrDefault(l => l.StartsWith("name:", StringComparison.Ordinal))?[5..].Trim().Trim('"', '\'') is { Length: > 0 } n ? n : null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("name", out var named) && named.ValueKind == JsonValueKind.String
                ? named.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary><c>workflow list</c>: the built-in and registered workflows with their versions.</summary>
public sealed class WorkflowListCommand : AsyncCommand<OpenSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, OpenSettings settings, CancellationToken cancellationToken)
    {
        using var api = ApiClient.For(settings.Target());
        var (_, body) = await OpenApi.SendAsync(api, HttpMethod.Get, "/api/workflows", null, settings.AdminToken, cancellationToken);
        var table = new Table().AddColumns("workflow", "latest", "versions", "steps", "description");
        foreach (var workflow in body.GetProperty("workflows").EnumerateArray())
        {
            var versions = workflow.GetProperty("versions").EnumerateArray().ToList();
            var latest = workflow.GetProperty("latestVersion");
            var live = versions.FirstOrDefault(v => v.GetProperty("deletedAt").ValueKind != JsonValueKind.String);
            table.AddRow(
                Markup.Escape(workflow.GetProperty("name").GetString()!) + (workflow.GetProperty("builtIn").GetBoolean() ? " [grey](built in)[/]" : ""),
                latest.ValueKind == JsonValueKind.Number ? latest.GetInt32().ToString() : "[red]none live[/]",
                string.Join(", ", versions.Select(v => v.GetProperty("version").GetInt32() + (v.GetProperty("deletedAt").ValueKind == JsonValueKind.String ? " (deleted)" : ""))),
                live.ValueKind == JsonValueKind.Object ? live.GetProperty("steps").GetInt32().ToString() : "",
                Markup.Escape(workflow.GetProperty("description").GetString() ?? ""));
        }

        AnsiConsole.Write(table);
        return 0;
    }
}

public sealed class WorkflowStartSettings : OpenSettings
{
    [CommandArgument(0, "<NAME>")]
    public string Name { get; init; } = "";

    [CommandOption("-i|--input <JSON>")]
    [Description("The saga's input as JSON, or @file.json.")]
    public string Input { get; init; } = "{}";

    [CommandOption("-k|--key <KEY>")]
    [Description("Idempotency-Key (default: a new one). The same key again starts no second saga.")]
    public string? Key { get; init; }

    [CommandOption("-w|--wait <SECONDS>")]
    [Description("How long the silo waits for the end before answering 202 (Prefer: wait). Default 10.")]
    [DefaultValue(10)]
    public int Wait { get; init; } = 10;
}

/// <summary><c>workflow start NAME --input JSON</c>: starts a saga of the latest version and draws its timeline.</summary>
public sealed class WorkflowStartCommand : AsyncCommand<WorkflowStartSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, WorkflowStartSettings settings, CancellationToken cancellationToken)
    {
        var input = OpenApi.TextOrFile(settings.Input, "--input");
        var key = settings.Key ?? Guid.NewGuid().ToString("N");
        using var api = ApiClient.For(settings.Target());
        var (status, body) = await OpenApi.SendAsync(api, HttpMethod.Post, $"/api/workflows/{Uri.EscapeDataString(settings.Name)}/sagas", input, settings.AdminToken,
            cancellationToken, headers: new Dictionary<string, string> { ["Idempotency-Key"] = key, ["Prefer"] = $"wait={Math.Clamp(settings.Wait, 0, 60)}" });
        var sagaId = body.GetProperty("sagaId").GetString()!;
        AnsiConsole.MarkupLine($"[grey]{status}, Idempotency-Key {key}, saga {Markup.Escape(sagaId)}[/]");
        var (_, saga) = await OpenApi.SendAsync(api, HttpMethod.Get, $"/api/sagas/{Uri.EscapeDataString(sagaId)}", null, settings.AdminToken, cancellationToken);
        var view = saga.Deserialize<Reliability.Sagas.SagaView>(SagaJson.Options)!;
        AnsiConsole.Write(SagaTimeline.Render(view));
        return view.Status == Reliability.Sagas.SagaStatus.Completed ? 0 : 1;
    }
}

/// <summary>How the silos write a saga over HTTP: statuses as names, commands with their <c>command</c> discriminator anywhere in the object.</summary>
public static class SagaJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        AllowOutOfOrderMetadataProperties = true,
    };
}
