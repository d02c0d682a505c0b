using System.Collections.Immutable;

namespace Reliability.Idempotency;

/// <summary>What the first execution answered, kept to be replayed: status, body, and the headers worth keeping (Location).</summary>
[GenerateSerializer, Immutable, Alias("idempotency.stored-response")]
public sealed record StoredResponse(int StatusCode, string? ContentType, ImmutableArray<byte> Body, ImmutableDictionary<string, string> Headers);
