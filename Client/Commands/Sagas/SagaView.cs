using Reliability.Sagas;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Reliability.Client.Commands.Sagas;

/// <summary>Draws a saga's timeline: one row per attempt, actions forward, compensations (↩) backward.</summary>
public static class SagaTimeline
{
    public static IRenderable Render(Reliability.Sagas.SagaView saga)
    {
        var status = saga.Status switch
        {
            SagaStatus.Completed => "[green]Completed[/]",
            SagaStatus.Compensated => "[yellow]Compensated[/]",
            SagaStatus.Failed => "[red]Failed (parked)[/]",
            var other => $"[blue]{other}[/]",
        };
        var version = saga.WorkflowVersion is { } v ? $" v{v}" : "";
        var table = new Table().Title($"saga [bold]{Markup.Escape(saga.SagaId)}[/] ({Markup.Escape(saga.Kind)}{version}): {status}")
            .AddColumns("step", "attempt", "outcome", "silo", "took", "detail");
        var started = new Dictionary<(int, bool, int), DateTimeOffset>();
        foreach (var entry in saga.History)
        {
            var key = (entry.Step, entry.Compensation, entry.Attempt);
            if (entry.Outcome == "started")
            {
                started[key] = entry.At;
                continue;
            }

            var took = entry.Call is { } timed ? $"{timed.DurationMs:0} ms" : started.TryGetValue(key, out var at) ? $"{(entry.At - at).TotalMilliseconds:0} ms" : "";
            var outcome = entry.Outcome switch
            {
                "succeeded" => "[green]✓ succeeded[/]",
                "rejected" => "[red]✗ rejected[/]",
                "accepted" => "[blue]… accepted (202)[/]",
                _ => "[yellow]! failed[/]",
            };
            var step = entry.Compensation ? $"  ↩ undo {entry.StepName}" : $"{entry.Step + 1}. {entry.StepName}";
            // An HTTP step's call: where it went and what came back, before why it went so.
            var call = entry.Call is { } c ? $"{c.Method} {c.Url} → {(c.Status is { } code ? code.ToString() : "no answer")}" : null;
            var detail = call is null ? entry.Detail ?? "" : entry.Detail is null ? call : $"{call}; {entry.Detail}";
            table.AddRow(Markup.Escape(step), entry.Attempt.ToString(), outcome, Markup.Escape(entry.Silo), took, Markup.Escape(detail));
        }

        if (saga.History.Count(h => h.Outcome == "started") > saga.History.Count(h => h.Outcome != "started"))
        {
            var last = saga.History.Last(h => h.Outcome == "started");
            table.AddRow(Markup.Escape(last.Compensation ? $"  ↩ undo {last.StepName}" : $"{last.Step + 1}. {last.StepName}"), last.Attempt.ToString(), "[blue]… running[/]", Markup.Escape(last.Silo), "", "");
        }

        if (saga.FailureReason is { } reason)
        {
            table.Caption(Markup.Escape(reason));
        }

        return table;
    }
}
