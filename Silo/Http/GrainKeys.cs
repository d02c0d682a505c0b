namespace Reliability.Silo.Http;

/// <summary>
/// Route values that become grain keys as they are: Orleans refuses a blank key with an exception, and no
/// id of this API is long or holds control characters, so such values are a 400, not a lookup.
/// </summary>
public static class GrainKeys
{
    public const int MaxLength = 128;

    public static FieldError? Check(string value, string field) =>
        string.IsNullOrWhiteSpace(value) || value.Length > MaxLength || value.Any(char.IsControl)
            ? new FieldError(field, $"must be 1-{MaxLength} characters, not blank and without control characters")
            : null;
}
