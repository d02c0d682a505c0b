namespace Reliability;

/// <summary>A rejected input, naming the field as it is spelled in the HTTP API.</summary>
[GenerateSerializer, Immutable, Alias("field-error")]
public sealed record FieldError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}
