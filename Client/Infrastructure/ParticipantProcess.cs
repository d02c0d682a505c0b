using System.Net.Http.Json;
using System.Text.Json;
using Reliability.Client.Sagas;

namespace Reliability.Client.Infrastructure;

/// <summary>A demo saga participant (<c>Client participant</c>) as a process of its own, with its faults and effects over HTTP.</summary>
public sealed class ParticipantProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly ServiceProcess _process;

    private ParticipantProcess(ServiceProcess process, string name) => (_process, Name) = (process, name);

    public string Name { get; }

    public string Address => _process.Address;

    public static async Task<ParticipantProcess> StartAsync(string name, int port = 0, CancellationToken cancellationToken = default) =>
        new(await ServiceProcess.StartAsync($"the participant {name}", ["participant", "--name", name, "--port", port.ToString()], cancellationToken), name);

    /// <summary>Sets the faults of each path (replacing earlier ones).</summary>
    public async Task FaultsAsync(IReadOnlyDictionary<string, PathFaults> faults, CancellationToken cancellationToken = default) =>
        (await Http.PutAsJsonAsync($"{Address}/control", faults, cancellationToken)).EnsureSuccessStatusCode();

    /// <summary>What it applied: per action key, applied and undone, and how often each key arrived.</summary>
    public async Task<ParticipantEffects> EffectsAsync(CancellationToken cancellationToken = default) =>
        (await Http.GetFromJsonAsync<ParticipantEffects>($"{Address}/effects", JsonSerializerOptions.Web, cancellationToken))!;

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

public sealed record ParticipantEffects(string Participant, int Applied, int Undone, Dictionary<string, ParticipantAction> Actions);

public sealed record ParticipantAction(bool Applied, bool Undone, string? Path, int Received, int CompensationsReceived, string? TraceParent, bool Finished, int Callbacks, JsonElement? Answer);
