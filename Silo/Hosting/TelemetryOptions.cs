using Reliability.Infrastructure;

namespace Reliability.Silo.Hosting;

/// <summary>
/// OpenTelemetry of the silo (section <c>Telemetry</c>). OTLP export follows the standard
/// <c>OTEL_EXPORTER_OTLP_*</c> variables and is off while none names an endpoint.
/// </summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>A Prometheus scrape endpoint at <c>/metrics</c> on the HTTP port: open to loopback, behind the admin rule otherwise.</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>The share of new traces recorded (a request that arrives with a sampled parent is always recorded).</summary>
    public double SamplingRatio { get; set; } = 1.0;

    /// <summary>Record traces even without an OTLP endpoint (for a listener of one's own, as the tests have).</summary>
    public bool Traces { get; set; }

    public void Validate() =>
        StartupException.Require(SamplingRatio is >= 0 and <= 1, $"Telemetry:SamplingRatio must be between 0 and 1, not {SamplingRatio}.");

    /// <summary>Whether an OTLP endpoint is configured for <paramref name="signal"/> (traces, metrics) through the standard variables.</summary>
    public static bool OtlpConfigured(IConfiguration configuration, string signal) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration[$"OTEL_EXPORTER_OTLP_{signal.ToUpperInvariant()}_ENDPOINT"]);
}
