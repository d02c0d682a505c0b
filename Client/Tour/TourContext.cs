using Reliability.Client.Infrastructure;

namespace Reliability.Client.Tour;

/// <summary>
/// What a chapter gets: the Orleans client, the cluster it connected to (with the silos' HTTP addresses for
/// the HTTP parts), and the demo upstream behind the gateway, if the cluster has one.
/// </summary>
public sealed record TourContext(ClusterConnection Connection, string? DemoUpstream = null)
{
    public IClusterClient Client => Connection.Client;

    public ClusterTarget Target => Connection.Target;

    /// <summary>A suffix that keeps each tour run's keys apart, so a second tour starts from clean state.</summary>
    public string RunId { get; } = DateTime.UtcNow.ToString("HHmmss");
}
