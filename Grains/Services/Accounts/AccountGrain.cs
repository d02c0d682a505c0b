using Reliability.Infrastructure;
using Reliability.Services.EventSourcing;

namespace Reliability.Services.Accounts;

/// <summary>The account service: a balance that never goes below zero, in its own event store.</summary>
public sealed class AccountGrain : EventSourcedGrain<AccountState>, IAccountGrain
{
    public static readonly EventTypes EventTypes = new(
        typeof(AccountOpened), typeof(AccountDebited), typeof(AccountCredited), typeof(DebitRejected), typeof(DebitRefunded), typeof(DebitVoided));

    protected override string StoreName => StoreNames.Accounts;

    protected override string StreamPrefix => "account";

    protected override EventTypes Types => EventTypes;

    protected override AccountState Initial => AccountState.Empty;

    protected override int SnapshotSchema => 3;

    protected override AccountState Apply(AccountState state, object @event, EventMeta meta) => AccountState.Apply(state, @event, meta);

    protected override AccountState Forget(AccountState state, DateTimeOffset before) => state.Forget(before);

    public Task<CommandResult> Open(string commandId, decimal initialBalance) => ExecuteAsync(commandId, state =>
        state.Exists ? Decision.Refuse("already-open", $"account {Id} is already open") : Decision.Emit(new AccountOpened(initialBalance)));

    public Task<CommandResult> Debit(string commandId, decimal amount, string reference) => ExecuteAsync(commandId, state =>
        !state.Exists ? Decision.Refuse("account-unknown", $"account {Id} does not exist")
        : state.Voided.ContainsKey(commandId) ? Decision.Refuse("cancelled", $"debit {commandId} was compensated before it arrived")
        : state.Balance < amount ? Decision.Emit(new DebitRejected(amount, reference, "insufficient-funds", $"account {Id} holds {state.Balance}, {amount} was asked"))
        : Decision.Emit(new AccountDebited(amount, reference)));

    public Task<CommandResult> Credit(string commandId, decimal amount, string reference) => ExecuteAsync(commandId, state =>
        !state.Exists ? Decision.Refuse("account-unknown", $"account {Id} does not exist") : Decision.Emit(new AccountCredited(amount, reference)));

    /// <summary>
    /// Gives the debit back if it happened (its event, found by its command id) and was not given back yet;
    /// otherwise leaves a tombstone, so that it cannot happen later.
    /// </summary>
    public Task<CommandResult> RefundDebit(string commandId, string debitCommandId) => ExecuteAsync(commandId, async state =>
    {
        if (!state.Exists || state.Refunded.ContainsKey(debitCommandId) || state.Voided.ContainsKey(debitCommandId))
        {
            return Decision.NothingToDo;
        }

        var debit = await Store.FindCommandAsync(StreamId, debitCommandId);
        return debit is null ? Decision.Emit(new DebitVoided(debitCommandId))
            : EventTypes.Deserialize(debit.Type, debit.Payload) is AccountDebited debited ? Decision.Emit(new DebitRefunded(debitCommandId, debited.Amount))
            : Decision.NothingToDo;
    });

    public async Task<AccountView> Get()
    {
        var state = await CurrentAsync();
        return new AccountView(Id, state.Exists, state.Balance, Version);
    }

    private string Id => this.GetPrimaryKeyString();
}
