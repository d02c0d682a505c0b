using Reliability.Infrastructure;

namespace Reliability.Silo.RateLimitService;

/// <summary>What a check that the cluster cannot decide within <see cref="RateLimitServiceOptions.Timeout"/> answers.</summary>
public enum FailureMode
{
    /// <summary>OK: the gateway lets the request through (Envoy's default, <c>failure_mode_deny: false</c>).</summary>
    Allow,

    /// <summary>OVER_LIMIT.</summary>
    Deny,
}

/// <summary>Envoy's rate-limit service on every silo (section <c>RateLimitService</c>).</summary>
public sealed class RateLimitServiceOptions
{
    public const string SectionName = "RateLimitService";

    /// <summary>Its own HTTP/2 port (cleartext h2c unless a certificate is set); 0 turns the service off.</summary>
    public int Port { get; set; } = 8181;

    /// <summary>A YAML file of envoyproxy/ratelimit's format, or a folder of them (*.yaml, *.yml); reloaded on change.</summary>
    public string? ConfigPath { get; set; }

    /// <summary>How long a check may take before <see cref="FailureMode"/> answers instead (Envoy's own RPC timeout is 20 ms).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(15);

    public FailureMode FailureMode { get; set; } = FailureMode.Allow;

    /// <summary>A PKCS#12 certificate to serve TLS with instead of h2c, and its password.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    public void Validate()
    {
        StartupException.Require(Port == 0 || Port is >= 1 and <= 65535, $"RateLimitService:Port must be a port number (1-65535) or 0 (off), not {Port}.");
        StartupException.Require(Timeout >= TimeSpan.FromMilliseconds(1) && Timeout <= TimeSpan.FromSeconds(10),
            $"RateLimitService:Timeout must be between 1 ms and 10 s, not {Timeout}.");
        StartupException.Require(ConfigPath is null || File.Exists(ConfigPath) || Directory.Exists(ConfigPath),
            $"RateLimitService:ConfigPath '{ConfigPath}' is neither a file nor a folder.");
        StartupException.Require(CertificatePath is null || File.Exists(CertificatePath),
            $"RateLimitService:CertificatePath '{CertificatePath}' does not exist.");
    }
}
