using System.Diagnostics;

namespace Reliability.Silo.Hosting;

/// <summary>
/// With <c>Lifetime:ExitWithParent=&lt;pid&gt;</c> (set by the client when it launches silos), the silo shuts
/// down once that process is gone, so that a launcher that crashed or was killed leaves no silos behind.
/// </summary>
public sealed class ParentWatch(IConfiguration configuration, IHostApplicationLifetime lifetime, ILogger<ParentWatch> logger) : BackgroundService
{
    public const string SettingName = "Lifetime:ExitWithParent";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!int.TryParse(configuration[SettingName], out var parent) || parent <= 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!IsAlive(parent))
            {
                logger.LogWarning("The process that launched this silo ({Parent}) is gone; shutting down", parent);
                lifetime.StopApplication();
                return;
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
