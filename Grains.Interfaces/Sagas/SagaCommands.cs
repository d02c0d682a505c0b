using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Reliability.Services;

namespace Reliability.Sagas;

/// <summary>
/// A local transaction on one participant service, as data: a saga's steps are stored with the saga, so
/// that a saga resumed on another silo knows exactly what to run. Compensations name the action they
/// undo and undo it only if it took effect.
/// </summary>
[GenerateSerializer, Immutable, Alias("sagas.command")]
[JsonPolymorphic(TypeDiscriminatorPropertyName = "command")]
[JsonDerivedType(typeof(CreateOrder), "create-order")]
[JsonDerivedType(typeof(CancelOrder), "cancel-order")]
[JsonDerivedType(typeof(ConfirmOrder), "confirm-order")]
[JsonDerivedType(typeof(ReserveStock), "reserve-stock")]
[JsonDerivedType(typeof(ReleaseStock), "release-stock")]
[JsonDerivedType(typeof(ChargePayment), "charge-payment")]
[JsonDerivedType(typeof(RefundPayment), "refund-payment")]
[JsonDerivedType(typeof(DebitAccount), "debit-account")]
[JsonDerivedType(typeof(RefundDebit), "refund-debit")]
[JsonDerivedType(typeof(CreditAccount), "credit-account")]
[JsonDerivedType(typeof(HttpCall), "http")]
[JsonDerivedType(typeof(ServiceCall), "service")]
public abstract record SagaCommand;

[GenerateSerializer, Immutable, Alias("sagas.create-order")]
public sealed record CreateOrder(string OrderId, string CustomerId, ImmutableArray<OrderLine> Lines) : SagaCommand;

[GenerateSerializer, Immutable, Alias("sagas.cancel-order")]
public sealed record CancelOrder(string OrderId, string Reason) : SagaCommand;

[GenerateSerializer, Immutable, Alias("sagas.confirm-order")]
public sealed record ConfirmOrder(string OrderId) : SagaCommand;

[GenerateSerializer, Immutable, Alias("sagas.reserve-stock")]
public sealed record ReserveStock(string Sku, string ReservationId, int Quantity) : SagaCommand;

[GenerateSerializer, Immutable, Alias("sagas.release-stock")]
public sealed record ReleaseStock(string Sku, string ReservationId) : SagaCommand;

[GenerateSerializer, Immutable, Alias("sagas.charge-payment")]
public sealed record ChargePayment(string PaymentId, string Payer, string? Payee, decimal Amount, string Reference) : SagaCommand;

[GenerateSerializer, Immutable, Alias("sagas.refund-payment")]
public sealed record RefundPayment(string PaymentId) : SagaCommand;

[GenerateSerializer, Immutable, Alias("sagas.debit-account")]
public sealed record DebitAccount(string AccountId, decimal Amount, string Reference) : SagaCommand;

/// <summary>Gives back what the step's debit took, if it took anything.</summary>
[GenerateSerializer, Immutable, Alias("sagas.refund-debit")]
public sealed record RefundDebit(string AccountId) : SagaCommand;

[GenerateSerializer, Immutable, Alias("sagas.credit-account")]
public sealed record CreditAccount(string AccountId, decimal Amount, string Reference) : SagaCommand;

/// <summary>
/// A call to a participant over HTTP, as its workflow definition wrote it: the URL, header values and body
/// are templates (<c>{{input.amount}}</c>, <c>{{steps.reserve.response.body.id}}</c>) rendered at each
/// attempt from the saga's input and its earlier steps' answers. Kept with the saga, so a saga runs the
/// version it started with whatever is registered later.
/// </summary>
[GenerateSerializer, Immutable, Alias("sagas.http-call")]
public sealed record HttpCall(
    [property: Id(0)] string Method,
    [property: Id(1)] string Url,
    [property: Id(2)] ImmutableArray<HttpHeaderTemplate> Headers,
    [property: Id(3)] string? Body) : SagaCommand;

/// <summary>One request header of an <see cref="HttpCall"/>; its value is a template, which may name a configured secret.</summary>
[GenerateSerializer, Immutable, Alias("sagas.http-header")]
public sealed record HttpHeaderTemplate([property: Id(0)] string Name, [property: Id(1)] string Value);

/// <summary>
/// A call to one of the built-in services in this cluster, as a workflow definition wrote it: the command's name
/// (<c>debit-account</c>, …) and its fields as a JSON template, rendered at each attempt into that command.
/// </summary>
[GenerateSerializer, Immutable, Alias("sagas.service-call")]
public sealed record ServiceCall([property: Id(0)] string Service, [property: Id(1)] string Body) : SagaCommand;
