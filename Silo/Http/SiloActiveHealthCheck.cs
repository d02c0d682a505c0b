using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Reliability.Silo.Http;

/// <summary>Ready only once membership lists this silo as Active, and no longer once it is shutting down.</summary>
internal sealed class SiloActiveHealthCheck(IClusterMembershipService membership, ILocalSiloDetails local) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress);
        var description = $"{local.Name} ({local.SiloAddress}) is {status}";
        return Task.FromResult(status == SiloStatus.Active ? HealthCheckResult.Healthy(description) : HealthCheckResult.Unhealthy(description));
    }
}
