using System.Collections.Immutable;

namespace Reliability.Services.Accounts;

/// <summary>
/// An account as the fold of its events. Debits are remembered by the command that made them, so that a
/// compensation can give back exactly what its action took, and only once.
/// </summary>
public sealed record AccountState(bool Exists, decimal Balance, ImmutableDictionary<string, decimal> Debits)
{
    public static AccountState Empty { get; } = new(false, 0, ImmutableDictionary<string, decimal>.Empty);

    /// <summary>The fold. <paramref name="commandId"/> is the command that wrote the event.</summary>
    public static AccountState Apply(AccountState state, object @event, string? commandId) => @event switch
    {
        AccountOpened opened => state with { Exists = true, Balance = opened.InitialBalance },
        AccountDebited debited => state with { Balance = state.Balance - debited.Amount, Debits = Remember(state.Debits, commandId, debited.Amount) },
        AccountCredited credited => state with { Balance = state.Balance + credited.Amount },
        DebitRefunded refunded => state with { Balance = state.Balance + refunded.Amount, Debits = state.Debits.Remove(refunded.DebitCommandId) },
        _ => state,
    };

    private static ImmutableDictionary<string, decimal> Remember(ImmutableDictionary<string, decimal> map, string? commandId, decimal amount) =>
        commandId is null ? map : map.SetItem(commandId, amount);
}
