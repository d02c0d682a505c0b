using System.ComponentModel;
using System.Text;
using System.Text.Json;
using Reliability.Client.Gateway;
using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands.Gateway;

public class GatewaySettings : ClusterSettings
{
    [CommandOption("--admin-token <TOKEN>")]
    [Description("The silos' Admin:Token, if they have one (without it, admin endpoints answer loopback callers only). Default: $RELIABILITY_ADMIN_TOKEN.")]
    public string? AdminToken { get; init; }
}

public sealed class GatewayTrySettings : GatewaySettings
{
    [CommandArgument(0, "<PATH>")]
    [Description("The path on the gateway, e.g. /demo/orders (a full http:// URL is taken to be one silo's).")]
    public string Path { get; init; } = "";

    [CommandOption("-k|--key <KEY>")]
    [Description("The Idempotency-Key. Default: a new one.")]
    public string? Key { get; init; }

    [CommandOption("--body <JSON>")]
    [DefaultValue("""{"item":"book-1","quantity":1}""")]
    public string Body { get; init; } = """{"item":"book-1","quantity":1}""";

    [CommandOption("--api-key <KEY>")]
    [Description("The caller's API key: keys are scoped to it.")]
    public string? ApiKey { get; init; }

    [CommandOption("--upstream <URL>")]
    [Description("A demo upstream (Client upstream) to ask how often it applied the key. Default: the one ./run.sh started.")]
    public string? Upstream { get; init; }
}

/// <summary><c>gateway routes</c>: the routes every silo's gateway serves.</summary>
public sealed class GatewayRoutesCommand : AsyncCommand<GatewaySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, GatewaySettings settings, CancellationToken cancellationToken)
    {
        using var api = ApiClient.For(settings.Target());
        var headers = GatewayTry.AdminHeaders(settings.AdminToken);
        using var response = await api.SendAsync(HttpMethod.Get, 0, "/api/admin/gateway/routes", headers: headers, cancellationToken: cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new CommandException($"GET /api/admin/gateway/routes answered {(int)response.StatusCode}: {text}");
        }

        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        var routes = root.GetProperty("routes").EnumerateArray().ToList();
        if (routes.Count == 0)
        {
            AnsiConsole.MarkupLine("No gateway routes: set [bold]Gateway:Routes:<name>[/] on the silos (see docs/gateway.md).");
            return 0;
        }

        var table = new Table().AddColumns("route", "matches", "upstreams", "keyed methods", "missing key", "4xx stored", "scope");
        foreach (var route in routes)
        {
            var hosts = string.Join(", ", route.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()));
            var prefix = route.GetProperty("pathPrefix").GetString() ?? "/";
            var keyed = route.GetProperty("idempotency").GetBoolean()
                ? string.Join(" ", route.GetProperty("keyedMethods").EnumerateArray().Select(m => m.GetString()))
                : "none (plain proxy)";
            table.AddRow(
                Markup.Escape(route.GetProperty("name").GetString()!),
                Markup.Escape((hosts.Length > 0 ? hosts + " " : "") + prefix + (route.GetProperty("stripPrefix").GetBoolean() ? " (prefix stripped)" : "")),
                Markup.Escape(string.Join(", ", route.GetProperty("upstreams").EnumerateArray().Select(u => u.GetString())) + $" ({route.GetProperty("loadBalancing").GetString()})"),
                Markup.Escape(keyed),
                Markup.Escape(route.GetProperty("missingKey").GetString()!),
                route.GetProperty("storeClientErrors").GetBoolean() ? "yes" : "no",
                Markup.Escape(route.GetProperty("scopeHeader").GetString() ?? "X-Api-Key"));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Replays keep bodies up to {root.GetProperty("maxStoredBodyBytes").GetInt64():N0} bytes and the headers " +
                               Markup.Escape(string.Join(", ", root.GetProperty("storedHeaders").EnumerateArray().Select(h => h.GetString()))) + " (and Content-Type).");
        return 0;
    }
}

/// <summary><c>gateway try</c>: the same keyed POST twice at once through two silos, then once more, and what the upstream applied.</summary>
public sealed class GatewayTryCommand : AsyncCommand<GatewayTrySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, GatewayTrySettings settings, CancellationToken cancellationToken)
    {
        var target = settings.Path.StartsWith("http", StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(settings.Path, UriKind.Absolute, out var url)
            ? (Urls: (IReadOnlyList<string>)[url.GetLeftPart(UriPartial.Authority)], Path: url.PathAndQuery)
            : (Urls: settings.Target().HttpUrls, Path: settings.Path.StartsWith('/') ? settings.Path : "/" + settings.Path);
        try
        {
            JsonDocument.Parse(settings.Body).Dispose();
        }
        catch (JsonException ex)
        {
            throw new CommandException($"--body is not JSON: {ex.Message}");
        }

        using var api = new ApiClient(target.Urls, settings.ApiKey);
        var upstream = settings.Upstream ?? ClusterRunInfo.TryRead(RepositoryPaths.ClusterFile)?.DemoUpstream;
        var result = await GatewayTry.RunAsync(api, target.Path, settings.Key ?? $"try-{Guid.NewGuid():N}"[..16], settings.Body, upstream, cancellationToken);
        GatewayTry.Show(result);
        return 0;
    }
}

/// <summary>What <c>gateway try</c> and the tour do: two at once, one after, and the upstream's count.</summary>
public static class GatewayTry
{
    public sealed record Answer(string Silo, string When, int Status, string? Replayed, string? OriginalStatus, string Body);

    public sealed record Result(string Path, string Key, IReadOnlyList<Answer> Answers, int? Applied);

    public static Dictionary<string, string> AdminHeaders(string? token)
    {
        token ??= Environment.GetEnvironmentVariable("RELIABILITY_ADMIN_TOKEN");
        return token is { Length: > 0 } ? new() { ["Authorization"] = $"Bearer {token}" } : [];
    }

    public static async Task<Result> RunAsync(ApiClient api, string path, string key, string body, string? upstream, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = key, ["Prefer"] = "wait=10" };
        var together = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => SendAsync(api, i, path, body, headers, "at once", cancellationToken)));
        var after = await SendAsync(api, 2, path, body, headers, "after", cancellationToken);
        int? applied = null;
        if (upstream is not null)
        {
            using var demo = new DemoUpstreamClient(upstream);
            try
            {
                applied = await demo.AppliedAsync(key, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException or TaskCanceledException)
            {
                AnsiConsole.MarkupLine($"[grey]{Markup.Escape(upstream)} does not report effects (it is not the demo upstream): {Markup.Escape(ex.Message)}[/]");
            }
        }

        return new Result(path, key, [.. together, after], applied);
    }

    public static void Show(Result result)
    {
        AnsiConsole.MarkupLine($"POST [bold]{Markup.Escape(result.Path)}[/] with [bold]Idempotency-Key: {Markup.Escape(result.Key)}[/] (and Prefer: wait=10):");
        var table = new Table().AddColumns("sent", "silo", "status", "Idempotent-Replayed", "original status", "body");
        foreach (var answer in result.Answers)
        {
            table.AddRow(answer.When, Markup.Escape(answer.Silo), Colour(answer.Status), answer.Replayed ?? "", answer.OriginalStatus ?? "",
                Markup.Escape(answer.Body.Length > 70 ? answer.Body[..70] + "…" : answer.Body));
        }

        AnsiConsole.Write(table);
        if (result.Applied is { } applied)
        {
            AnsiConsole.MarkupLine($"The upstream applied this key [bold]{applied} time(s)[/].");
        }
    }

    private static async Task<Answer> SendAsync(ApiClient api, int silo, string path, string body, Dictionary<string, string> headers, string when, CancellationToken cancellationToken)
    {
        using var response = await api.SendAsync(HttpMethod.Post, silo, path, body, headers, cancellationToken);
        var text = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return new Answer(api.UrlOf(silo), when, (int)response.StatusCode, Header(response, "Idempotent-Replayed"), Header(response, "Idempotent-Original-Status"), text);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static string Colour(int status) => status switch
    {
        201 => "[green]201[/]",
        200 => "[blue]200[/]",
        409 => "[yellow]409[/]",
        _ => $"[red]{status}[/]",
    };
}
