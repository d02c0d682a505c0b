using System.Collections.Immutable;
using Reliability.Services.EventSourcing;

namespace Reliability.Services.Accounts;

/// <summary>
/// An account as the fold of its events. What its compensations need is kept for the dedupe window: the
/// debits already refunded (so a debit is given back once), and the tombstones of debits compensated before
/// they arrived (so such a debit is refused). A debit itself is found by its command id in the store, so
/// the state does not grow with every debit.
/// </summary>
public sealed record AccountState(bool Exists, decimal Balance, ImmutableDictionary<string, DateTimeOffset> Refunded, ImmutableDictionary<string, DateTimeOffset> Voided)
{
    public static AccountState Empty { get; } = new(false, 0, ImmutableDictionary<string, DateTimeOffset>.Empty, ImmutableDictionary<string, DateTimeOffset>.Empty);

    /// <summary>The fold.</summary>
    public static AccountState Apply(AccountState state, object @event, EventMeta meta) => @event switch
    {
        AccountOpened opened => state with { Exists = true, Balance = opened.InitialBalance },
        AccountDebited debited => state with { Balance = state.Balance - debited.Amount },
        AccountCredited credited => state with { Balance = state.Balance + credited.Amount },
        DebitRefunded refunded => state with { Balance = state.Balance + refunded.Amount, Refunded = state.Refunded.SetItem(refunded.DebitCommandId, meta.At) },
        DebitVoided voided => state with { Voided = state.Voided.SetItem(voided.DebitCommandId, meta.At) },
        _ => state,
    };

    /// <summary>Drops refunds and tombstones older than <paramref name="before"/>: no compensation comes that late.</summary>
    public AccountState Forget(DateTimeOffset before) => this with { Refunded = Refunded.Since(at => at, before), Voided = Voided.Since(at => at, before) };
}
