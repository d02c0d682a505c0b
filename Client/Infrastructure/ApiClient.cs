using System.Net.Http.Headers;
using System.Text;

namespace Reliability.Client.Infrastructure;

/// <summary>The silos' HTTP API, one base address per silo, for the commands that show HTTP behaviour.</summary>
public sealed class ApiClient(IReadOnlyList<string> siloUrls, string? apiKey = null) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public int SiloCount => siloUrls.Count;

    /// <summary>The base address requests for <paramref name="silo"/> go to.</summary>
    public string UrlOf(int silo) => siloUrls[silo % siloUrls.Count];

    public static ApiClient For(ClusterTarget target, string? apiKey = null) =>
        target.HttpUrls.Count > 0 ? new ApiClient(target.HttpUrls, apiKey) : throw new CommandException("No silo HTTP address is known: pass --http http://host:port[,…].");

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, int silo, string path, string? json = null, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default, string contentType = "application/json")
    {
        using var request = CreateRequest(siloUrls[silo % siloUrls.Count], method, path, json, headers, apiKey, contentType);
        try
        {
            return await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new CommandException($"{request.RequestUri}: {ex.Message}. Is the silo running?", ex);
        }
    }

    /// <summary>A request to one silo: its API key, extra headers, and a body (JSON unless told otherwise) if given.</summary>
    public static HttpRequestMessage CreateRequest(string siloUrl, HttpMethod method, string path, string? json, IReadOnlyDictionary<string, string>? headers, string? apiKey, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(method, siloUrl.TrimEnd('/') + path);
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue(contentType));
        }

        return request;
    }

    public void Dispose() => _http.Dispose();
}
