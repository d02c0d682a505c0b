using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

namespace Reliability.Client.Infrastructure;

/// <summary>An Orleans client connected through the membership table of a <see cref="ClusterTarget"/>.</summary>
public sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host, ClusterTarget target)
    {
        _host = host;
        Target = target;
    }

    public ClusterTarget Target { get; }

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public static async Task<ClusterConnection> ConnectAsync(ClusterTarget target, CancellationToken cancellationToken, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(15));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Critical);
        builder.UseOrleansClient(client => client
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = target.ClusterId;
                o.ServiceId = target.ServiceId;
            })
            .UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = target.ClusterStoreConnectionString;
            })
            // Learn about silos that joined or died within seconds rather than the default minute.
            .Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5))
            // A request in flight to a silo that dies is answered by nobody: bound the wait like the silos do.
            .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5))
            .Configure<Orleans.Serialization.ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"))
            .UseConnectionRetryFilter(async (_, token) =>
            {
                if (DateTime.UtcNow > deadline)
                {
                    return false;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), token);
                return true;
            }));

        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
            return new ClusterConnection(host, target);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            host.Dispose();
            throw Explain(ex, target);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is OperationCanceledException or OrleansException)
        {
            // The cluster may already be gone; there is nothing left to release.
        }

        _host.Dispose();
    }

    private static CommandException Explain(Exception ex, ClusterTarget target)
    {
        var where = target.Describe();
        for (var inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is PostgresException { SqlState: "28P01" })
            {
                return new CommandException($"Cannot read the membership table at {where}: authentication failed; check --db / {ClusterTarget.EnvironmentVariable}.", ex);
            }

            if (inner is PostgresException { SqlState: "42P01" })
            {
                return new CommandException($"The database at {where} has no membership table: no silo has ever started on it.", ex);
            }

            if (inner is NpgsqlException npgsql)
            {
                return new CommandException($"Cannot read the membership table at {where}: {npgsql.Message}", ex);
            }
        }

        return new CommandException(
            $"Cannot reach cluster '{target.ClusterId}' (membership at {where}): no silo answered. Is the cluster running? Start it with ./run.sh.", ex);
    }
}
