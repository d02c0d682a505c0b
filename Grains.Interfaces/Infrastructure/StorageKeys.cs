namespace Reliability.Infrastructure;

/// <summary>
/// String keys of grains kept in the ADO.NET grain storage, which has two quirks: a key that parses as
/// hexadecimal is stored as a number (so "ab" and "AB" would share a row), and a key is used as a
/// composite format string when the provider describes it, so a lone brace throws. Keys are a non-hex
/// prefix (which keeps every id apart) and the id with its braces doubled (which formats back to the id
/// and maps different ids to different keys).
/// </summary>
public static class StorageKeys
{
    /// <summary>
    /// The width of the storage's key column (<c>GrainIdExtensionString</c>): the longest key a caller can
    /// make, every character of it a brace, fits (StorageKeysTests).
    /// </summary>
    public const int MaxLength = 1024;

    public static string Of(string prefix, string id) => prefix + id.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal);

    /// <summary>The id inside a key made by <see cref="Of"/>.</summary>
    public static string IdOf(string prefix, string key) =>
        key[prefix.Length..].Replace("{{", "{", StringComparison.Ordinal).Replace("}}", "}", StringComparison.Ordinal);
}
