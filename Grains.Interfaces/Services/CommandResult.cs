namespace Reliability.Services;

/// <summary>
/// The outcome of a command on an event-sourced service: applied, or rejected by a business rule (a value,
/// not an exception). A command id seen before answers its first outcome again and appends nothing.
/// <see cref="Position"/> is the store position of the command's event (0 if it wrote none), for
/// read-your-writes on the views.
/// </summary>
[GenerateSerializer, Immutable, Alias("services.command-result")]
public sealed record CommandResult(bool Succeeded, string? Code, string? Message, long Position, int Version, bool Duplicate = false)
{
    public static CommandResult Applied(long position, int version) => new(true, null, null, position, version);

    public static CommandResult Rejected(string code, string message, long position = 0, int version = 0) => new(false, code, message, position, version);

    public override string ToString() => Succeeded ? $"applied at {Position}" : $"rejected: {Code} ({Message})";
}
