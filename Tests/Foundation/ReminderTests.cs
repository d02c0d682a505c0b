using Reliability.Diagnostics;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Foundation;

public sealed class ReminderTests
{
    [Fact]
    public async Task Reminder_WhenTheSiloHostingItsGrainIsKilled_KeepsFiringOnAnotherSilo()
    {
        var (cluster, _) = await TestClusters.StartAsync("reminders", configureSilo: silo =>
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1)));
        await using var _ = cluster;
        var probe = cluster.Client.GetGrain<IReminderProbeGrain>("probe");
        await probe.Start(TimeSpan.FromSeconds(1));
        var firstTick = await WaitForAsync(probe, report => report.Ticks.Count > 0, TimeSpan.FromSeconds(30));
        var victim = firstTick.Ticks[^1].Silo;

        await cluster.KillSiloAsync(cluster.SiloNamed(victim));
        var afterKill = await WaitForAsync(probe, report => report.Ticks.Any(t => t.Silo != victim), TimeSpan.FromSeconds(60));
        await probe.Stop();

        Assert.Contains(afterKill.Ticks, t => t.Silo != victim && t.At > firstTick.Ticks[^1].At);
    }

    private static async Task<ReminderProbeReport> WaitForAsync(IReminderProbeGrain probe, Func<ReminderProbeReport, bool> condition, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            try
            {
                var report = await probe.GetReport();
                if (condition(report))
                {
                    return report;
                }
            }
            catch (Exception ex) when (ex is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException)
            {
                // The probe's silo was just killed; the next call reactivates it elsewhere.
            }

            await Task.Delay(250, deadline.Token);
        }
    }
}
