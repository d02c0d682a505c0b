using System.Collections.Immutable;
using System.Text.Json;

namespace Reliability.Sagas.Workflows;

/// <summary>
/// A registered workflow, one version of it: the schema its start request must match and its steps in
/// order. Versions are immutable once registered; a saga keeps the steps of the version it started with.
/// </summary>
public sealed record WorkflowDefinition(string Name, int Version, string? Description, JsonElement InputSchema, ImmutableArray<WorkflowStep> Steps)
{
    /// <summary>The index of the pivot step: the last one that may fail for a business reason. Null if none is marked.</summary>
    public int? Pivot => Steps.Select((s, i) => (s, i)).Where(x => x.s.Pivot).Select(x => (int?)x.i).FirstOrDefault();

    /// <summary>What the saga of one start request runs: this version's steps, the steps after the pivot retried until they succeed.</summary>
    public SagaDefinition ToSaga(string input)
    {
        var pivot = Pivot;
        return new SagaDefinition(Name,
            [.. Steps.Select((s, i) => new SagaStep(s.Name, s.Action, s.Compensation, s.Policy with { UntilSuccess = i > pivot }))],
            Version, input);
    }
}

/// <summary>One step of a workflow: its action, the compensation that undoes it, whether it is the pivot, and its retry policy.</summary>
public sealed record WorkflowStep(string Name, HttpCall Action, HttpCall? Compensation, bool Pivot, StepPolicy Policy);
