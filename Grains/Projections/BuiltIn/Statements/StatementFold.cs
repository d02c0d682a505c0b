using Reliability.Services.Accounts;

namespace Reliability.Projections.BuiltIn;

/// <summary>An account's balance and movements. Pure.</summary>
public static class StatementFold
{
    public const int KeptMovements = 50;

    public static AccountStatement Empty(string accountId) => new(accountId, false, 0, 0, []);

    public static AccountStatement Apply(AccountStatement view, object @event, ProjectedEvent meta) => @event switch
    {
        AccountOpened opened => Move(view with { Open = true }, meta, "opened", opened.InitialBalance, opened.InitialBalance, null),
        AccountDebited debited => Move(view, meta, "debit", -debited.Amount, view.Balance - debited.Amount, debited.Reference),
        AccountCredited credited => Move(view, meta, "credit", credited.Amount, view.Balance + credited.Amount, credited.Reference),
        DebitRefunded refunded => Move(view, meta, "refund", refunded.Amount, view.Balance + refunded.Amount, refunded.DebitCommandId),
        _ => view,
    };

    private static AccountStatement Move(AccountStatement view, ProjectedEvent meta, string kind, decimal amount, decimal balance, string? reference)
    {
        var movements = view.RecentMovements.Add(new Movement(meta.RecordedAt, kind, amount, balance, reference));
        return view with
        {
            Balance = balance,
            MovementCount = view.MovementCount + 1,
            RecentMovements = movements.Length > KeptMovements ? movements.RemoveAt(0) : movements,
        };
    }
}
