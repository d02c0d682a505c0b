using System.Text.Json;

namespace Reliability.Services.EventSourcing;

/// <summary>An event that records a refusal: stored like any event, so a repeated command gets the same answer.</summary>
public interface IRejection
{
    string Code { get; }

    string Message { get; }
}

/// <summary>The event types of one service: written as their type name and a JSON payload.</summary>
public sealed class EventTypes(params Type[] types)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Dictionary<string, Type> _byName = types.ToDictionary(t => t.Name, StringComparer.Ordinal);

    public static string NameOf(object @event) => @event.GetType().Name;

    public string Serialize(object @event) => JsonSerializer.Serialize(@event, @event.GetType(), Json);

    public object Deserialize(string type, string payload) =>
        _byName.TryGetValue(type, out var clr)
            ? JsonSerializer.Deserialize(payload, clr, Json) ?? throw new InvalidDataException($"Event {type} has an empty payload.")
            : throw new InvalidDataException($"Unknown event type '{type}'.");
}
