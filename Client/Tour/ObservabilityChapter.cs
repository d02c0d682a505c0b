using System.Globalization;
using Reliability.Client.Commands.Gateway;
using Reliability.Client.Infrastructure;
using Reliability.Client.Observability;
using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>What the tour just did, as Prometheus sees it on the silos' /metrics.</summary>
public sealed class ObservabilityChapter : ITourChapter
{
    public string Title => "Observability: the tour as Prometheus sees it";

    public async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        if (context.Target.HttpUrls.Count == 0)
        {
            AnsiConsole.MarkupLine("[grey]Skipped: no silo HTTP address is known.[/]");
            return;
        }

        using var api = new ApiClient(context.Target.HttpUrls);
        IReadOnlyList<MetricSample> samples;
        try
        {
            samples = await SiloMetrics.ScrapeAsync(api, GatewayTry.AdminHeaders(null), cancellationToken);
        }
        catch (CommandException ex)
        {
            AnsiConsole.MarkupLine($"[grey]Skipped: {Markup.Escape(ex.Message)}[/]");
            return;
        }

        AnsiConsole.MarkupLine($"Every silo serves OpenTelemetry metrics at [bold]/metrics[/] for Prometheus ({Markup.Escape(context.Target.HttpUrls[0])}/metrics), " +
                               "and exports traces and metrics over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set. What this tour did, summed over the silos:");
        var table = new Table().AddColumn("question").AddColumn("series").AddColumn(new TableColumn("value").RightAligned());
        void Row(string question, string name, Func<MetricSample, bool>? where = null, Func<MetricSample, string>? label = null)
        {
            foreach (var group in samples.Where(s => s.Name == name && (where?.Invoke(s) ?? true)).GroupBy(s => label?.Invoke(s) ?? "").OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                table.AddRow(Markup.Escape(question), Markup.Escape(group.Key.Length == 0 ? name : $"{name}{{{group.Key}}}"), group.Sum(s => s.Value).ToString("#,0.###", CultureInfo.InvariantCulture));
                question = "";
            }
        }

        Row("how often are callers limited?", "reliability_ratelimit_decisions_total", label: s => $"outcome=\"{s.Labels.GetValueOrDefault("outcome")}\"");
        Row("are retries absorbed?", "reliability_idempotency_claims_total", label: s => $"outcome=\"{s.Labels.GetValueOrDefault("outcome")}\"");
        Row("how do sagas end?", "reliability_sagas_ended_total", label: s => $"workflow=\"{s.Labels.GetValueOrDefault("workflow")}\",status=\"{s.Labels.GetValueOrDefault("status")}\"");
        Row("which steps fail?", "reliability_saga_step_attempts_total", s => s.Labels.GetValueOrDefault("outcome") != "succeeded",
            s => $"step=\"{s.Labels.GetValueOrDefault("step")}\",outcome=\"{s.Labels.GetValueOrDefault("outcome")}\"");
        Row("are the views keeping up?", "reliability_projection_events_applied_total", label: s => $"projection=\"{s.Labels.GetValueOrDefault("projection")}\"");
        var lagCount = samples.Where(s => s.Name == "reliability_projection_lag_seconds_count").Sum(s => s.Value);
        var lagSum = samples.Where(s => s.Name == "reliability_projection_lag_seconds_sum").Sum(s => s.Value);
        if (lagCount > 0)
        {
            table.AddRow("", "mean append → view lag", $"{lagSum / lagCount * 1000:0.#} ms");
        }

        Row("how big is the cluster's work?", "orleans_catalog_activations");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("PromQL for these questions (over-limit rate per policy, saga failure ratio, projection lag p99) is in docs/observability.md. " +
                               "Try [bold]metrics --match saga[/], or [bold]metrics --match orleans_[/] for Orleans' own.");
    }
}
