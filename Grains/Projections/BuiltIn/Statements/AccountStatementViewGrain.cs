using Reliability.Infrastructure;

namespace Reliability.Projections.BuiltIn;

[CollectionAgeLimit(Minutes = 5)]
public sealed class AccountStatementViewGrain(
    [PersistentState("view", StoreNames.Projections)] IPersistentState<ViewState<AccountStatement>> state)
    : ProjectionViewGrain<AccountStatement>(state), IAccountStatementViewGrain
{
    protected override AccountStatement Initial() => StatementFold.Empty(ViewKey.Parse(this.GetPrimaryKeyString()).View.Id!);

    protected override AccountStatement Fold(AccountStatement view, object @event, ProjectedEvent meta) => StatementFold.Apply(view, @event, meta);

    public Task<AccountStatement?> Get() => Task.FromResult(View);
}
