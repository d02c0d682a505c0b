using Reliability.Client.Infrastructure;

namespace Reliability.Client.Tour;

/// <summary>
/// What a chapter gets: the Orleans client, the cluster it connected to (with the silos' HTTP addresses for
/// the HTTP parts), the demo upstream behind the gateway and the silos' rate-limit service, if the cluster has them.
/// </summary>
public sealed record TourContext(ClusterConnection Connection, string? DemoUpstream = null, IReadOnlyList<string>? RlsUrls = null)
{
    public IClusterClient Client => Connection.Client;

    public ClusterTarget Target => Connection.Target;

    /// <summary>A suffix that keeps each tour run's keys apart, so a second tour starts from clean state.</summary>
    public string RunId { get; } = DateTime.UtcNow.ToString("HHmmss");
}
