using System.Text.Json;

namespace Reliability.Client.Infrastructure;

/// <summary>One silo process of a local cluster.</summary>
/// <summary>One silo process of a local cluster; <see cref="RlsPort"/> is its Envoy rate-limit service (0: off).</summary>
/// <summary>
/// Where one silo listens. <paramref name="Host"/> is its address (loopback unless the silo runs in a network
/// namespace of a partition drill, <paramref name="Namespace"/>, where it binds and advertises that address).
/// </summary>
public sealed record SiloEndpoint(string Name, int SiloPort, int GatewayPort, int HttpPort, int ProcessId = 0, int RlsPort = 0, string Host = "127.0.0.1", string? Namespace = null)
{
    public string HttpUrl => $"http://{Host}:{HttpPort}";

    public string RlsUrl => $"http://{Host}:{RlsPort}";
}

/// <summary>
/// What <c>up</c> writes to <c>.run/cluster.json</c> so that other client commands find the running cluster.
/// It holds the database password, so the file is readable by its owner only.
/// </summary>
public sealed record ClusterRunInfo(string ClusterId, string ServiceId, string ConnectionString, string RunDirectory, IReadOnlyList<SiloEndpoint> Silos, string? DemoUpstream = null)
{
    /// <summary>The gateway route <c>up</c> puts in front of the demo upstream.</summary>
    public const string DemoRoute = "/demo";

    public string DashboardUrl => $"{Silos[0].HttpUrl}/dashboard/";

    /// <summary>The rate-limit service of each silo that serves it.</summary>
    public IReadOnlyList<string> RlsUrls => [.. Silos.Where(s => s.RlsPort > 0).Select(s => s.RlsUrl)];

    public static ClusterRunInfo? TryRead(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<ClusterRunInfo>(File.ReadAllText(path), JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Write(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, JsonSerializerOptions.Web));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
