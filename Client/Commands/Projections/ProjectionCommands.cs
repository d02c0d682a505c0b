using System.Collections.Immutable;
using System.ComponentModel;
using System.Globalization;
using Reliability.Client.Infrastructure;
using Reliability.Projections;
using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Rendering;

namespace Reliability.Client.Commands.Projections;

public class ViewSettings : ClusterSettings
{
    [CommandOption("-a|--after <TOKENS>")]
    [Description("Consistency tokens from a command's response (store:position, comma-separated): wait until the view includes them.")]
    public string? After { get; init; }

    [CommandOption("-w|--wait <SECONDS>")]
    [Description("How long to wait for the tokens (default 5, at most 30).")]
    [DefaultValue(5.0)]
    public double Wait { get; init; } = 5;

    public (ImmutableArray<ConsistencyToken> Tokens, TimeSpan Wait) Parse() =>
        !ConsistencyToken.TryParseList(After, out var tokens)
            ? throw new CommandException($"--after must be tokens like orders:12,payments:7 (got '{After}').")
            : Wait is < 0 or > 30
                ? throw new CommandException($"--wait must be 0 to 30 seconds (got {Wait}).")
                : (tokens, TimeSpan.FromSeconds(Wait));
}

public sealed class ViewIdSettings : ViewSettings
{
    [CommandArgument(0, "<ID>")]
    public string Id { get; init; } = "";
}

public sealed class ProjectionNameSettings : ClusterSettings
{
    [CommandArgument(0, "[PROJECTION]")]
    [Description("orders, statements, totals or a JavaScript projection's name; the built-in ones when left out.")]
    public string? Name { get; init; }

    [CommandOption("-n|--limit <N>")]
    [DefaultValue(50)]
    public int Limit { get; init; } = 50;

    /// <summary>The named projection (built-in or JavaScript: its runner says if there is none), or the built-in ones.</summary>
    public IReadOnlyList<string> Names() => Name is null ? ProjectionNames.All : [Name];
}

/// <summary>
/// The shape of every <c>view</c> command: connect, read the view (waiting for the tokens of
/// <c>--after</c>), draw it and say whether it is stale; exit code 1 when it is.
/// </summary>
public abstract class ViewCommand<TSettings, TView> : AsyncCommand<TSettings> where TSettings : ViewSettings where TView : class
{
    public sealed override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        var (tokens, wait) = settings.Parse();
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        var read = await ReadAsync(connection.Client, settings, tokens, wait);
        if (read.View is null)
        {
            throw new CommandException(Missing(settings, read.Stale));
        }

        AnsiConsole.Write(Render(read.View));
        AnsiConsole.MarkupLine(ViewRender.Flags(read));
        return read.Stale ? 1 : 0;
    }

    protected abstract Task<ViewRead<TView>> ReadAsync(IClusterClient client, TSettings settings, ImmutableArray<ConsistencyToken> tokens, TimeSpan wait);

    protected abstract IRenderable Render(TView view);

    protected virtual string Missing(TSettings settings, bool stale) => $"Nothing in the view{(stale ? " yet (it has not caught up with the tokens)" : "")}.";
}

/// <summary><c>view orders CUSTOMER</c></summary>
public sealed class ViewCustomerOrdersCommand : ViewCommand<ViewIdSettings, CustomerOrders>
{
    protected override Task<ViewRead<CustomerOrders>> ReadAsync(IClusterClient client, ViewIdSettings settings, ImmutableArray<ConsistencyToken> tokens, TimeSpan wait) =>
        client.ReadCustomerOrdersAsync(settings.Id, tokens, wait);

    protected override IRenderable Render(CustomerOrders view) => ViewRender.CustomerOrders(view);
}

/// <summary><c>view order ORDER</c></summary>
public sealed class ViewOrderCommand : ViewCommand<ViewIdSettings, OrderSummary>
{
    protected override Task<ViewRead<OrderSummary>> ReadAsync(IClusterClient client, ViewIdSettings settings, ImmutableArray<ConsistencyToken> tokens, TimeSpan wait) =>
        client.ReadOrderSummaryAsync(settings.Id, tokens, wait);

    protected override IRenderable Render(OrderSummary view) => ViewRender.OrderSummary(view);

    protected override string Missing(ViewIdSettings settings, bool stale) =>
        $"No order '{settings.Id}' in the view{(stale ? " yet (it has not caught up with the tokens)" : "")}.";
}

/// <summary><c>view statement ACCOUNT</c></summary>
public sealed class ViewStatementCommand : ViewCommand<ViewIdSettings, AccountStatement>
{
    protected override Task<ViewRead<AccountStatement>> ReadAsync(IClusterClient client, ViewIdSettings settings, ImmutableArray<ConsistencyToken> tokens, TimeSpan wait) =>
        client.ReadStatementAsync(settings.Id, tokens, wait);

    protected override IRenderable Render(AccountStatement view) => ViewRender.Statement(view);

    protected override string Missing(ViewIdSettings settings, bool stale) => $"No account '{settings.Id}' in the view{(stale ? " yet" : "")} (run `seed`).";
}

/// <summary><c>view totals</c></summary>
public sealed class ViewTotalsCommand : ViewCommand<ViewSettings, ShopTotals>
{
    protected override Task<ViewRead<ShopTotals>> ReadAsync(IClusterClient client, ViewSettings settings, ImmutableArray<ConsistencyToken> tokens, TimeSpan wait) =>
        client.ReadTotalsAsync(tokens, wait);

    protected override IRenderable Render(ShopTotals view) => ViewRender.Totals(view);
}

/// <summary><c>projection status</c></summary>
public sealed class ProjectionStatusCommand : AsyncCommand<ProjectionNameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProjectionNameSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        var statuses = await Task.WhenAll(settings.Names().Select(n => connection.Client.GetGrain<IProjectionRunnerGrain>(n).GetStatus()));
        AnsiConsole.Write(ViewRender.Status(statuses));
        return 0;
    }
}

/// <summary><c>projection rebuild [NAME]</c>: starts a rebuild and follows it with a progress bar until the new generation is live.</summary>
public sealed class ProjectionRebuildCommand : AsyncCommand<ProjectionNameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProjectionNameSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        foreach (var name in settings.Names())
        {
            await RebuildAsync(connection.Client, name, cancellationToken);
        }

        return 0;
    }

    /// <summary>Rebuilds one projection, drawing events replayed against events to go, and says how long it took.</summary>
    public static async Task<ProjectionStatus> RebuildAsync(IClusterClient client, string name, CancellationToken cancellationToken)
    {
        var runner = client.GetGrain<IProjectionRunnerGrain>(name);
        var before = (await runner.GetStatus()).LiveGeneration;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var status = await runner.Rebuild();
        long replayed = 0;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"rebuild {name} → generation {before + 1}");
                while (status.LiveGeneration == before)
                {
                    var behind = status.Sources.Sum(s => s.RebuildBehind);
                    replayed = status.RebuildApplied;
                    task.MaxValue = Math.Max(1, replayed + behind);
                    task.Value = replayed;
                    await Task.Delay(200, cancellationToken);
                    status = await runner.GetStatus();
                }

                task.MaxValue = Math.Max(1, task.MaxValue);
                task.Value = task.MaxValue;
            });

        var seconds = clock.Elapsed.TotalSeconds;
        AnsiConsole.MarkupLine($"[green]{name}[/]: generation {status.LiveGeneration} is live after {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s; " +
                               "queries answered from the previous generation until the switch.");
        return status;
    }
}

/// <summary><c>projection parked NAME</c></summary>
public sealed class ProjectionParkedCommand : AsyncCommand<ProjectionNameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProjectionNameSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        var table = new Table().Title("parked events").AddColumns("projection", "event", "stream", "type", "attempts", "parked at (UTC)", "error");
        foreach (var name in settings.Names())
        {
            foreach (var parked in await connection.Client.GetGrain<IProjectionRunnerGrain>(name).GetParked(settings.Limit))
            {
                table.AddRow(name, $"{parked.Store}:{parked.Position}", Markup.Escape(parked.StreamId), parked.Type, parked.Attempts.ToString(CultureInfo.InvariantCulture),
                    parked.ParkedAt.ToString("HH:mm:ss", CultureInfo.InvariantCulture), Markup.Escape(parked.Error));
            }
        }

        AnsiConsole.Write(table);
        return 0;
    }
}

/// <summary><c>projection replay NAME</c>: applies parked events again, after a fix.</summary>
public sealed class ProjectionReplayCommand : AsyncCommand<ProjectionNameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProjectionNameSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await ClusterConnection.ConnectAsync(settings.Target(), cancellationToken);
        var left = 0L;
        foreach (var name in settings.Names())
        {
            var runner = connection.Client.GetGrain<IProjectionRunnerGrain>(name);
            var replayed = await runner.ReplayParked();
            var status = await runner.GetStatus();
            left += status.Parked;
            AnsiConsole.MarkupLine($"{name}: replayed {replayed}, still parked {status.Parked}");
        }

        return left == 0 ? 0 : 1;
    }
}
