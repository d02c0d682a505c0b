using Reliability.Infrastructure;
using Reliability.Services.EventSourcing;

namespace Reliability.Services.Accounts;

/// <summary>The account service: a balance that never goes below zero, in its own event store.</summary>
public sealed class AccountGrain : EventSourcedGrain<AccountState>, IAccountGrain
{
    public static readonly EventTypes EventTypes = new(
        typeof(AccountOpened), typeof(AccountDebited), typeof(AccountCredited), typeof(DebitRejected), typeof(DebitRefunded));

    protected override string StoreName => StoreNames.Accounts;

    protected override string StreamPrefix => "account";

    protected override EventTypes Types => EventTypes;

    protected override AccountState Initial => AccountState.Empty;

    protected override AccountState Apply(AccountState state, object @event, string? commandId) => AccountState.Apply(state, @event, commandId);

    public Task<CommandResult> Open(string commandId, decimal initialBalance) => ExecuteAsync(commandId, state =>
        state.Exists ? Decision.Refuse("already-open", $"account {Id} is already open") : Decision.Emit(new AccountOpened(initialBalance)));

    public Task<CommandResult> Debit(string commandId, decimal amount, string reference) => ExecuteAsync(commandId, state =>
        !state.Exists ? Decision.Refuse("account-unknown", $"account {Id} does not exist")
        : state.Balance < amount ? Decision.Emit(new DebitRejected(amount, reference, "insufficient-funds", $"account {Id} holds {state.Balance}, {amount} was asked"))
        : Decision.Emit(new AccountDebited(amount, reference)));

    public Task<CommandResult> Credit(string commandId, decimal amount, string reference) => ExecuteAsync(commandId, state =>
        !state.Exists ? Decision.Refuse("account-unknown", $"account {Id} does not exist") : Decision.Emit(new AccountCredited(amount, reference)));

    public Task<CommandResult> RefundDebit(string commandId, string debitCommandId) => ExecuteAsync(commandId, state =>
        state.Debits.TryGetValue(debitCommandId, out var amount) ? Decision.Emit(new DebitRefunded(debitCommandId, amount)) : Decision.NothingToDo);

    public async Task<AccountView> Get()
    {
        var state = await CurrentAsync();
        return new AccountView(Id, state.Exists, state.Balance, Version);
    }

    private string Id => this.GetPrimaryKeyString();
}
