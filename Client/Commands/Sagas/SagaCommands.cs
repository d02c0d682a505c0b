using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Reliability.Client.Infrastructure;
using Reliability.Sagas;
using Reliability.Services;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands.Sagas;

public sealed class SagaIdSettings : ClusterSettings
{
    [CommandArgument(0, "<SAGA>")]
    public string SagaId { get; init; } = "";
}

public sealed class SagaListSettings : ClusterSettings
{
    [CommandOption("-s|--status <STATUS>")]
    [Description("Running, Compensating, Completed, Compensated or Failed (parked).")]
    public string? Status { get; init; }

    [CommandOption("-n|--limit <N>")]
    [DefaultValue(20)]
    public int Limit { get; init; } = 20;
}

public sealed class OrderSettings : ClusterSettings
{
    [CommandOption("-c|--customer <ID>")]
    [DefaultValue("alice")]
    public string Customer { get; init; } = "alice";

    [CommandOption("-i|--item <SKU:QTY>")]
    [Description("An item to order, e.g. book-1:2; repeat for several.")]
    public string[] Items { get; init; } = [];

    [CommandOption("-k|--key <KEY>")]
    [Description("Idempotency-Key (default: a new one). Sending the same key again starts no second saga.")]
    public string? Key { get; init; }
}

public sealed class TransferSettings : ClusterSettings
{
    [CommandArgument(0, "<FROM>")]
    public string From { get; init; } = "";

    [CommandArgument(1, "<TO>")]
    public string To { get; init; } = "";

    [CommandArgument(2, "<AMOUNT>")]
    public string Amount { get; init; } = "";

    [CommandOption("-k|--key <KEY>")]
    public string? Key { get; init; }
}

public sealed class EntitySettings : ClusterSettings
{
    [CommandArgument(0, "<ID>")]
    public string Id { get; init; } = "";
}

internal static class Sagas
{
    public static async Task<int> StartOverHttpAsync(ClusterSettings settings, string path, object body, string? key, CancellationToken cancellationToken)
    {
        var target = settings.Target();
        using var api = ApiClient.For(target);
        var idempotencyKey = key ?? Guid.NewGuid().ToString("N");
        var (sagaId, status) = await PostAsync(api, path, JsonSerializer.Serialize(body, JsonSerializerOptions.Web), idempotencyKey, cancellationToken);
        AnsiConsole.MarkupLine($"[grey]{(int)status} {status}, Idempotency-Key {idempotencyKey}, saga {sagaId}[/]");
        await using var connection = await ClusterConnection.ConnectAsync(target, cancellationToken);
        var view = await WaitAsync(connection.Client.GetGrain<ISagaGrain>(sagaId), TimeSpan.FromSeconds(30), cancellationToken);
        AnsiConsole.Write(SagaTimeline.Render(view));
        if (!view.Consistency.IsEmpty)
        {
            AnsiConsole.MarkupLine($"[grey]consistency tokens {string.Join(",", view.Consistency)}: pass them as --after to a `view` command to read these writes[/]");
        }

        return view.Status == SagaStatus.Completed ? 0 : 1;
    }

    /// <summary>POSTs a request that starts a saga (with its Idempotency-Key) and returns the saga's id; any answer but 2xx is an error.</summary>
    public static async Task<(string SagaId, HttpStatusCode Status)> PostAsync(ApiClient api, string path, string json, string idempotencyKey, CancellationToken cancellationToken)
    {
        using var response = await api.SendAsync(HttpMethod.Post, 0, path, json, new Dictionary<string, string> { ["Idempotency-Key"] = idempotencyKey }, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode
            ? (JsonDocument.Parse(text).RootElement.GetProperty("sagaId").GetString()!, response.StatusCode)
            : throw new CommandException($"POST {path} answered {(int)response.StatusCode}: {text}");
    }

    public static async Task<Reliability.Sagas.SagaView> WaitAsync(ISagaGrain saga, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var view = await saga.WaitForTerminal(TimeSpan.FromSeconds(3)) ?? throw new CommandException("The saga does not exist.");
            if (view.Status.IsTerminal() || DateTime.UtcNow > deadline)
            {
                return view;
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
    }
}

/// <summary><c>order place</c>: POST /api/orders and draw the saga's timeline.</summary>
public sealed class PlaceOrderCommand : AsyncCommand<OrderSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, OrderSettings settings, CancellationToken cancellationToken)
    {
        var items = settings.Items.Select(item => item.Split(':') is [var sku, var quantity] && int.TryParse(quantity, out var q)
            ? new { sku, quantity = q }
            : throw new CommandException($"--item must look like sku:quantity (got '{item}').")).ToList();
        if (items.Count == 0)
        {
            throw new CommandException("Name at least one --item sku:quantity (run `seed` for book-1, lamp-1, piano-1).");
        }

        return Sagas.StartOverHttpAsync(settings, "/api/orders", new { customerId = settings.Customer, items }, settings.Key, cancellationToken);
    }
}

/// <summary><c>transfer</c>: POST /api/transfers and draw the saga's timeline.</summary>
public sealed class TransferCommand : AsyncCommand<TransferSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, TransferSettings settings, CancellationToken cancellationToken) =>
        decimal.TryParse(settings.Amount, NumberStyles.Number, CultureInfo.InvariantCulture, out var amount)
            ? Sagas.StartOverHttpAsync(settings, "/api/transfers", new { from = settings.From, to = settings.To, amount }, settings.Key, cancellationToken)
            : throw new CommandException($"<AMOUNT> must be a number such as 25 or 12.50 (got '{settings.Amount}').");
}

public sealed class SagaListCommand : AsyncCommand<SagaListSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SagaListSettings settings, CancellationToken cancellationToken)
    {
        SagaStatus? status = null;
        if (settings.Status is not null)
        {
            status = Enum.TryParse<SagaStatus>(settings.Status, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                ? parsed
                : throw new CommandException($"--status must be one of {string.Join(", ", Enum.GetNames<SagaStatus>())}.");
        }

        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        var directory = connection.Client.GetGrain<ISagaDirectoryGrain>(0);
        var counts = await directory.Counts();
        var table = new Table().Title(string.Join("  ", Enum.GetValues<SagaStatus>().Select(s => $"{s}: {counts.GetValueOrDefault(s)}")))
            .AddColumns("saga", "kind", "status", "step", "updated (UTC)");
        foreach (var saga in await directory.List(status, settings.Limit))
        {
            table.AddRow(Markup.Escape(saga.SagaId), saga.Kind, saga.Status.ToString(), saga.Cursor.ToString(), saga.UpdatedAt.ToString("HH:mm:ss.fff"));
        }

        AnsiConsole.Write(table);
        return 0;
    }
}

public sealed class SagaShowCommand : AsyncCommand<SagaIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SagaIdSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        var view = await connection.Client.GetGrain<ISagaGrain>(settings.SagaId).Get() ?? throw new CommandException($"No saga '{settings.SagaId}'.");
        AnsiConsole.Write(SagaTimeline.Render(view));
        return 0;
    }
}

public sealed class SagaRetryCommand : AsyncCommand<SagaIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SagaIdSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        var saga = connection.Client.GetGrain<ISagaGrain>(settings.SagaId);
        if (!await saga.Retry())
        {
            throw new CommandException($"Saga '{settings.SagaId}' is not parked (status Failed); nothing to retry.");
        }

        AnsiConsole.Write(SagaTimeline.Render(await Sagas.WaitAsync(saga, TimeSpan.FromSeconds(30), cancellationToken)));
        return 0;
    }
}

public sealed class SagaCancelCommand : AsyncCommand<SagaIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SagaIdSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        var saga = connection.Client.GetGrain<ISagaGrain>(settings.SagaId);
        if (!await saga.Cancel("cancelled from the client"))
        {
            throw new CommandException($"Saga '{settings.SagaId}' is not running; only a running saga can be cancelled.");
        }

        AnsiConsole.Write(SagaTimeline.Render(await Sagas.WaitAsync(saga, TimeSpan.FromSeconds(30), cancellationToken)));
        return 0;
    }
}

public sealed class AccountCommand : AsyncCommand<EntitySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, EntitySettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        var account = await connection.Client.GetGrain<IAccountGrain>(settings.Id).Get();
        AnsiConsole.MarkupLine(account.Exists
            ? $"account [bold]{Markup.Escape(account.AccountId)}[/]: balance {account.Balance:N2} ({account.Version} events)"
            : $"account {Markup.Escape(settings.Id)} does not exist (run `seed`)");
        return account.Exists ? 0 : 1;
    }
}

public sealed class StockCommand : AsyncCommand<EntitySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, EntitySettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        var stock = await connection.Client.GetGrain<IInventoryGrain>(settings.Id).Get();
        AnsiConsole.MarkupLine(stock.Exists
            ? $"SKU [bold]{Markup.Escape(stock.Sku)}[/]: {stock.OnHand} on hand, {stock.Reserved} reserved, {stock.Available} available, {stock.UnitPrice:N2} each"
            : $"SKU {Markup.Escape(settings.Id)} does not exist (run `seed`)");
        return stock.Exists ? 0 : 1;
    }
}

/// <summary><c>seed</c>: demo accounts and stock, idempotent for accounts (restocking adds more).</summary>
public sealed class SeedCommand : AsyncCommand<ClusterSettings>
{
    public static readonly (string Id, decimal Balance)[] Accounts = [("alice", 1_000m), ("bob", 500m), ("carol", 2_500m), ("dave", 50_000m)];
    public static readonly (string Sku, int Quantity, decimal Price)[] Stock = [("book-1", 100, 12.50m), ("lamp-1", 20, 45m), ("piano-1", 3, 12_000m)];

    public override async Task<int> ExecuteAsync(CommandContext context, ClusterSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        await SeedAsync(connection.Client);
        AnsiConsole.MarkupLine($"accounts {string.Join(", ", Accounts.Select(a => $"{a.Id} ({a.Balance:N0})"))}; " +
                               $"stock {string.Join(", ", Stock.Select(s => $"{s.Sku} ({s.Quantity} × {s.Price:N2})"))}");
        return 0;
    }

    public static async Task SeedAsync(IClusterClient client)
    {
        foreach (var (id, balance) in Accounts)
        {
            await client.GetGrain<IAccountGrain>(id).Open($"open:{id}", balance);
        }

        foreach (var (sku, quantity, price) in Stock)
        {
            await client.GetGrain<IInventoryGrain>(sku).Restock($"seed:{sku}:{Guid.NewGuid():N}", quantity, price);
        }
    }
}
