using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Reliability.Sagas.Workflows;

/// <summary>
/// A workflow, one version of it: the schema its start request must match and its steps in order. Versions
/// are immutable once registered; a saga keeps the steps of the version it started with.
/// </summary>
public sealed record WorkflowDefinition(string Name, int Version, string? Description, JsonElement InputSchema, ImmutableArray<WorkflowStep> Steps)
{
    /// <summary>The index of the pivot step: the last one that may fail for a business reason. Null if none is marked.</summary>
    public int? Pivot => Steps.Select((s, i) => (s, i)).Where(x => x.s.Pivot).Select(x => (int?)x.i).FirstOrDefault();

    /// <summary>
    /// What the saga of one start request runs: this version's steps (a forEach step once per item of its list,
    /// named <c>step[i]</c>), the steps after the pivot retried until they succeed.
    /// </summary>
    public SagaDefinition ToSaga(string input)
    {
        var pivot = Pivot;
        var parsed = Steps.Any(s => s.ForEach is not null) ? JsonNode.Parse(input) : null;
        var steps = ImmutableArray.CreateBuilder<SagaStep>();
        for (var i = 0; i < Steps.Length; i++)
        {
            var step = Steps[i];
            var policy = step.Policy is null ? null : step.Policy with { UntilSuccess = i > pivot };
            if (step.ForEach is not { } path)
            {
                steps.Add(new SagaStep(step.Name, step.Action, step.Compensation, policy));
                continue;
            }

            var items = WorkflowTemplate.Resolve(new JsonObject { ["input"] = parsed }, path) as JsonArray ?? [];
            for (var n = 0; n < items.Count; n++)
            {
                steps.Add(new SagaStep($"{step.Name}[{n}]", step.Action, step.Compensation, policy, items[n]?.ToJsonString() ?? "null"));
            }
        }

        return new SagaDefinition(Name, steps.ToImmutable(), Version, input);
    }
}

/// <summary>
/// One step of a workflow: its action, the compensation that undoes it, whether it is the pivot, its retry policy
/// (null: the saga options'), and for a step repeated per item the input list it runs over.
/// </summary>
public sealed record WorkflowStep(string Name, SagaCommand Action, SagaCommand? Compensation, bool Pivot, StepPolicy? Policy, ImmutableArray<string>? ForEach = null);
