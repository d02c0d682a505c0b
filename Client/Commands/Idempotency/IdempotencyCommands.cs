using System.ComponentModel;
using System.Text.Json;
using Reliability.Client.Infrastructure;
using Reliability.Idempotency;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands.Idempotency;

public class IdempotencySettings : ClusterSettings
{
    [CommandOption("--api-key <KEY>")]
    [Description("The caller's API key: keys are scoped to it. Default: none (the public scope).")]
    public string? ApiKey { get; init; }
}

public sealed class TrySettings : IdempotencySettings
{
    [CommandArgument(0, "<CART>")]
    [Description("Cart id (letters, digits, '-', '_', '.').")]
    public string Cart { get; init; } = "";

    [CommandOption("-k|--key <KEY>")]
    [Description("The Idempotency-Key; send the same one to retry. Default: a new one.")]
    public string? Key { get; init; }

    [CommandOption("--sku <SKU>")]
    [DefaultValue("book-1")]
    public string Sku { get; init; } = "book-1";

    [CommandOption("-q|--quantity <N>")]
    [DefaultValue(1)]
    public int Quantity { get; init; } = 1;

    [CommandOption("--silo <N>")]
    [Description("Which silo's HTTP API to send to (0-based). Default 0.")]
    [DefaultValue(0)]
    public int Silo { get; init; }

    [CommandOption("--wait <SECONDS>")]
    [Description("Send Prefer: wait=SECONDS, to wait for a first request still running instead of getting 409.")]
    public int? Wait { get; init; }
}

public sealed class ShowSettings : IdempotencySettings
{
    [CommandArgument(0, "<KEY>")]
    public string Key { get; init; } = "";
}

public sealed class CartSettings : IdempotencySettings
{
    [CommandArgument(0, "<CART>")]
    public string Cart { get; init; } = "";
}

/// <summary><c>idem try</c>: one idempotent add-to-cart over HTTP, showing exactly what came back.</summary>
public sealed class TryCommand : AsyncCommand<TrySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, TrySettings settings, CancellationToken cancellationToken)
    {
        var key = settings.Key ?? Guid.NewGuid().ToString("N");
        using var api = ApiClient.For(settings.Target(), settings.ApiKey);
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = key };
        if (settings.Wait is { } wait)
        {
            headers["Prefer"] = $"wait={wait}";
        }

        using var response = await api.SendAsync(HttpMethod.Post, settings.Silo, $"/api/carts/{settings.Cart}/items",
            JsonSerializer.Serialize(new { sku = settings.Sku, quantity = settings.Quantity }), headers, cancellationToken);
        var table = new Table().AddColumns("", "");
        table.AddRow("Idempotency-Key", Markup.Escape(key));
        table.AddRow("status", $"{(int)response.StatusCode} {response.StatusCode}");
        foreach (var name in new[] { "Idempotent-Replayed", "Idempotent-Original-Status", "Location", "Retry-After" })
        {
            if (response.Headers.TryGetValues(name, out var values))
            {
                table.AddRow(name, Markup.Escape(string.Join(", ", values)));
            }
        }

        table.AddRow("body", Markup.Escape(await response.Content.ReadAsStringAsync(cancellationToken)));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]Send it again: idem try {Markup.Escape(settings.Cart)} --key {Markup.Escape(key)}[/]");
        return response.IsSuccessStatusCode ? 0 : 1;
    }
}

/// <summary><c>idem show</c>: a key's durable record, read from its grain.</summary>
public sealed class ShowCommand : AsyncCommand<ShowSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ShowSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        var scope = IdempotencyKeys.ScopeOf(settings.ApiKey);
        var record = await connection.Client.GetIdempotencyKey(scope, settings.Key).Get();
        if (record is null)
        {
            AnsiConsole.MarkupLine($"Key [bold]{Markup.Escape(settings.Key)}[/] (scope {scope}) is free: no request has claimed it, or its record expired.");
            return 0;
        }

        var table = new Table().Title($"{Markup.Escape(settings.Key)} (scope {scope})").AddColumns("", "");
        table.AddRow("status", record.Status.ToString());
        table.AddRow("claim", record.ClaimId ?? "-");
        table.AddRow("fingerprint", record.Fingerprint[..16] + "…");
        table.AddRow("lease", $"{record.LeaseId} (until {record.LeaseExpiresAt:HH:mm:ss.fff})");
        table.AddRow("started", record.StartedAt.ToString("yyyy-MM-dd HH:mm:ss.fff"));
        table.AddRow("completed", record.CompletedAt?.ToString("yyyy-MM-dd HH:mm:ss.fff") ?? "-");
        table.AddRow("replayed until", record.ExpiresAt.ToString("yyyy-MM-dd HH:mm:ss"));
        if (record.Response is { } stored)
        {
            table.AddRow("stored response", $"{stored.StatusCode}, {stored.Body.Length} bytes: {Markup.Escape(System.Text.Encoding.UTF8.GetString(stored.Body.AsSpan()))}");
        }

        AnsiConsole.Write(table);
        return 0;
    }
}

/// <summary><c>idem cart</c>: what a cart holds, one line per operation that added to it.</summary>
public sealed class CartCommand : AsyncCommand<CartSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CartSettings settings, CancellationToken cancellationToken)
    {
        using var api = ApiClient.For(settings.Target(), settings.ApiKey);
        using var response = await api.SendAsync(HttpMethod.Get, 0, $"/api/carts/{settings.Cart}", cancellationToken: cancellationToken);
        AnsiConsole.WriteLine(await response.Content.ReadAsStringAsync(cancellationToken));
        return response.IsSuccessStatusCode ? 0 : 1;
    }
}
