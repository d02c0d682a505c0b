using System.ComponentModel;
using System.Globalization;
using Reliability.Client.Commands.Gateway;
using Reliability.Client.Infrastructure;
using Reliability.Client.Observability;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands;

public sealed class MetricsSettings : GatewaySettings
{
    [CommandOption("--match <TEXT>")]
    [Description("Only the series whose name contains this (e.g. ratelimit, saga, projection, orleans_grains).")]
    [DefaultValue("reliability_")]
    public string Match { get; init; } = "reliability_";
}

/// <summary><c>metrics</c>: what Prometheus would scrape from every silo, summed across the silos.</summary>
public sealed class MetricsCommand : AsyncCommand<MetricsSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, MetricsSettings settings, CancellationToken cancellationToken)
    {
        using var api = ApiClient.For(settings.Target());
        var samples = await SiloMetrics.ScrapeAsync(api, GatewayTry.AdminHeaders(settings.AdminToken), cancellationToken);
        var shown = samples
            .Where(s => s.Name.Contains(settings.Match, StringComparison.Ordinal) && !s.Name.EndsWith("_bucket", StringComparison.Ordinal))
            .OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.LabelText, StringComparer.Ordinal)
            .ToList();
        var table = new Table().AddColumn("series").AddColumn(new TableColumn("value, all silos").RightAligned());
        foreach (var sample in shown)
        {
            table.AddRow(Markup.Escape($"{sample.Name}{{{sample.LabelText}}}"), sample.Value.ToString("#,0.###", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]{shown.Count} series from {api.SiloCount} silos' /metrics (histogram buckets left out). Queries for Prometheus: docs/observability.md.[/]");
        return 0;
    }
}
