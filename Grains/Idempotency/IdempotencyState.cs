namespace Reliability.Idempotency;

/// <summary>The stored row of a key: a record, or none when the key is free.</summary>
[GenerateSerializer, Immutable, Alias("idempotency.state")]
public sealed record IdempotencyState(IdempotencyRecord? Record)
{
    public IdempotencyState() : this((IdempotencyRecord?)null)
    {
    }
}
