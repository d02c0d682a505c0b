namespace Reliability;

/// <summary>The rule for the ids clients choose (accounts, SKUs, customers, carts).</summary>
public static class Ids
{
    public const int MaxLength = 64;

    /// <summary>1-64 letters, digits, '-', '_' or '.'; otherwise an error naming <paramref name="field"/>.</summary>
    public static FieldError? Check(string? id, string field) =>
        string.IsNullOrEmpty(id) || id.Length > MaxLength || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? new FieldError(field, $"must be 1-{MaxLength} letters, digits, '-', '_' or '.'")
            : null;
}
