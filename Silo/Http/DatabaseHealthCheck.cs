using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Reliability.Infrastructure;
using Reliability.Silo.Hosting;

namespace Reliability.Silo.Http;

/// <summary>Opens a connection to the cluster store and runs <c>SELECT 1</c>, bounded by two seconds.</summary>
internal sealed class DatabaseHealthCheck(ToolkitSettings settings) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (settings.Silo.Mode == SiloMode.Localhost)
        {
            return HealthCheckResult.Healthy("in-memory storage (Localhost mode)");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await using var connection = new NpgsqlConnection(settings.Database.ConnectionStringFor(StoreNames.Cluster));
            await connection.OpenAsync(timeout.Token);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy($"reachable: {connection.Host}:{connection.Port}/{connection.Database}");
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"unreachable: {ex.Message}");
        }
    }
}
