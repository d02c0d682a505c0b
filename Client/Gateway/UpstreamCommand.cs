using System.ComponentModel;
using Reliability.Client.Infrastructure;
using Spectre.Console.Cli;

namespace Reliability.Client.Gateway;

public sealed class UpstreamSettings : CommandSettings
{
    [CommandOption("--port <PORT>")]
    [Description("Port on 127.0.0.1; 0 picks a free one. Default 0.")]
    [DefaultValue(0)]
    public int Port { get; init; }

    [CommandOption("--database <CONNECTION-STRING>")]
    [Description("Make every effect one durable insert into upstream_effects in this database.")]
    public string? Database { get; init; }

    [CommandOption("--honour-keys")]
    [Description("Apply each Idempotency-Key once and answer repeats from memory, as an upstream keeping the gateway's contract would.")]
    public bool HonourKeys { get; init; }

    [CommandOption("--parent <PID>")]
    [Description("Exit when this process is gone (for the processes that start it).")]
    public int? Parent { get; init; }
}

/// <summary><c>upstream</c>: the demo service of <see cref="DemoUpstream"/>, in the foreground until Ctrl-C.</summary>
public sealed class UpstreamCommand : AsyncCommand<UpstreamSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, UpstreamSettings settings, CancellationToken cancellationToken)
    {
        await using var upstream = await DemoUpstream.StartAsync(settings.Port, settings.Database, settings.HonourKeys, cancellationToken);
        Console.WriteLine(ServiceProcess.ReadyPrefix + upstream.Address);
        try
        {
            while (!cancellationToken.IsCancellationRequested && ServiceProcess.ParentAlive(settings.Parent))
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or SIGTERM: stop listening.
        }

        return 0;
    }
}
