using Reliability.Infrastructure;

namespace Reliability.Projections.BuiltIn;

/// <summary>The <c>statements</c> projection: every event of an account, folded into its statement.</summary>
public static class StatementsProjection
{
    public static ProjectionDefinition Definition { get; } = new(
        ProjectionNames.Statements,
        [StoreNames.Accounts],
        meta => ViewRef.Account(ProjectionEvents.EntityOf(meta.StreamId)),
        (grains, key) => grains.GetGrain<IAccountStatementViewGrain>(key.GrainKey))
    {
        Read = async (grains, key) => key.View.Kind == "account" ? await grains.GetGrain<IAccountStatementViewGrain>(key.GrainKey).Get() : null,
    };
}
