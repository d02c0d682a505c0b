namespace Reliability.Diagnostics;

/// <summary>Which activation of a probe grain served a call, and on which silo.</summary>
[GenerateSerializer, Immutable, Alias("diagnostics.activation-probe-answer")]
public sealed record ActivationProbeAnswer(
    [property: Id(0)] string Silo,
    [property: Id(1)] string Activation);

/// <summary>
/// For partition drills: every call is recorded in PostgreSQL with the activation that served it, so two
/// activations of one grain alive at once show up as overlapping rows (table <c>activation_probes</c>).
/// </summary>
[Alias("diagnostics.activation-probe")]
public interface IActivationProbeGrain : IGrainWithStringKey
{
    Task<ActivationProbeAnswer> Touch();
}
