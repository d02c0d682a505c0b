using System.Net.Http.Json;
using System.Text.Json;

namespace Reliability.Client.Gateway;

/// <summary>The demo upstream's own endpoints, from outside: switch its behaviour, and ask what it applied.</summary>
public sealed class DemoUpstreamClient(string address) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(10) };

    /// <summary><c>PUT /control</c>: delay, failure status and padding from now on.</summary>
    public async Task ControlAsync(UpstreamControl control, CancellationToken cancellationToken = default) =>
        (await _http.PutAsJsonAsync("/control", control, cancellationToken)).EnsureSuccessStatusCode();

    /// <summary>How many times it applied an effect under this Idempotency-Key.</summary>
    public async Task<int> AppliedAsync(string key, CancellationToken cancellationToken = default) =>
        (await EffectsAsync(cancellationToken)).GetProperty("byKey").TryGetProperty(key, out var count) ? count.GetInt32() : 0;

    /// <summary>How many effects it applied in all.</summary>
    public async Task<long> TotalAsync(CancellationToken cancellationToken = default) =>
        (await EffectsAsync(cancellationToken)).GetProperty("total").GetInt64();

    public void Dispose() => _http.Dispose();

    private Task<JsonElement> EffectsAsync(CancellationToken cancellationToken) => _http.GetFromJsonAsync<JsonElement>("/effects", cancellationToken);
}
