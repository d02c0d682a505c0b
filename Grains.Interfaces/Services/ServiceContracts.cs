using System.Collections.Immutable;

namespace Reliability.Services;

[GenerateSerializer, Immutable, Alias("services.account-view")]
public sealed record AccountView(string AccountId, bool Exists, decimal Balance, int Version);

/// <summary>An account: a balance that can be debited (never below zero) and credited. Key: account id.</summary>
[Alias("services.account")]
public interface IAccountGrain : IGrainWithStringKey
{
    Task<CommandResult> Open(string commandId, decimal initialBalance);

    Task<CommandResult> Debit(string commandId, decimal amount, string reference);

    Task<CommandResult> Credit(string commandId, decimal amount, string reference);

    /// <summary>Credits back what the command <paramref name="debitCommandId"/> debited, if it did; otherwise leaves a tombstone, so a late debit is refused.</summary>
    Task<CommandResult> RefundDebit(string commandId, string debitCommandId);

    Task<AccountView> Get();
}

[GenerateSerializer, Immutable, Alias("services.stock-view")]
public sealed record StockView(string Sku, bool Exists, int OnHand, int Reserved, decimal UnitPrice, int Version)
{
    public int Available => OnHand - Reserved;
}

/// <summary>Stock of one SKU: on hand and reserved; reservations never exceed what is on hand. Key: SKU.</summary>
[Alias("services.inventory")]
public interface IInventoryGrain : IGrainWithStringKey
{
    Task<CommandResult> Restock(string commandId, int quantity, decimal unitPrice);

    Task<CommandResult> Reserve(string commandId, string reservationId, int quantity);

    /// <summary>Releases the reservation if it exists; otherwise leaves a tombstone, so a late reservation is refused.</summary>
    Task<CommandResult> Release(string commandId, string reservationId);

    Task<StockView> Get();
}

public enum PaymentStatus
{
    None,
    Charged,
    Declined,
    Refunded,

    /// <summary>Refunded before it was ever charged (a tombstone): a charge that arrives later is refused.</summary>
    Voided,
}

[GenerateSerializer, Immutable, Alias("services.payment-view")]
public sealed record PaymentView(string PaymentId, PaymentStatus Status, string? Payer, string? Payee, decimal Amount, string? Reference, int Version);

/// <summary>A payment record, charged once and refunded at most once. Key: payment id.</summary>
[Alias("services.payment")]
public interface IPaymentGrain : IGrainWithStringKey
{
    /// <summary>Payments above this are declined, as a card network would.</summary>
    const decimal Limit = 10_000m;

    Task<CommandResult> Charge(string commandId, string payer, string? payee, decimal amount, string reference);

    /// <summary>Refunds the charge if there is one; a payment never charged is voided, so a late charge is refused.</summary>
    Task<CommandResult> Refund(string commandId);

    Task<PaymentView> Get();
}

[GenerateSerializer, Immutable, Alias("services.order-line")]
public sealed record OrderLine(string Sku, int Quantity, decimal UnitPrice)
{
    public decimal Amount => Quantity * UnitPrice;
}

public enum OrderStatus
{
    None,
    Pending,
    Confirmed,
    Cancelled,

    /// <summary>Cancelled before it was created (a tombstone): a create that arrives later is refused.</summary>
    Voided,
}

[GenerateSerializer, Immutable, Alias("services.order-view")]
public sealed record OrderView(string OrderId, OrderStatus Status, string? CustomerId, ImmutableArray<OrderLine> Lines, decimal Total, string? CancelReason, int Version);

/// <summary>An order: pending, then confirmed or cancelled. Key: order id.</summary>
[Alias("services.order")]
public interface IOrderGrain : IGrainWithStringKey
{
    Task<CommandResult> Create(string commandId, string customerId, ImmutableArray<OrderLine> lines);

    Task<CommandResult> Confirm(string commandId);

    /// <summary>Cancels a pending order; an order that does not exist yet is voided, so a late create is refused.</summary>
    Task<CommandResult> Cancel(string commandId, string reason);

    Task<OrderView> Get();
}
