using System.Collections.Concurrent;

namespace Reliability.Infrastructure;

/// <summary>The project's SQL files, embedded in this assembly and read by name.</summary>
public static class SqlScripts
{
    public const string OrleansQueries = "00-orleans-queries.sql";
    public const string OrleansClustering = "10-orleans-clustering.sql";
    public const string OrleansReminders = "20-orleans-reminders.sql";
    public const string OrleansPersistence = "30-orleans-persistence.sql";
    public const string EventStore = "40-event-store.sql";
    public const string Sagas = "50-sagas.sql";
    public const string Projections = "60-projections.sql";
    public const string Idempotency = "70-idempotency.sql";
    public const string ActivationProbes = "80-activation-probes.sql";
    public const string OpenProjections = "90-open-projections.sql";

    private static readonly ConcurrentDictionary<string, string> Cache = new();

    public static string Read(string name) => Cache.GetOrAdd(name, static n =>
    {
        using var stream = typeof(SqlScripts).Assembly.GetManifestResourceStream($"sql/{n}")
            ?? throw new InvalidOperationException($"SQL script '{n}' is not embedded in {typeof(SqlScripts).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
