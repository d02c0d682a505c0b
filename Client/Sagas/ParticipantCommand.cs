using System.ComponentModel;
using Reliability.Client.Infrastructure;
using Spectre.Console.Cli;

namespace Reliability.Client.Sagas;

public sealed class ParticipantSettings : CommandSettings
{
    [CommandOption("--port <PORT>")]
    [Description("Port on 127.0.0.1; 0 picks a free one. Default 0.")]
    [DefaultValue(0)]
    public int Port { get; init; }

    [CommandOption("--name <NAME>")]
    [Description("The name it answers with (payments, shipping, ...). Default participant.")]
    [DefaultValue("participant")]
    public string Name { get; init; } = "participant";

    [CommandOption("--parent <PID>")]
    [Description("Exit when this process is gone (for the processes that start it).")]
    public int? Parent { get; init; }
}

/// <summary><c>participant</c>: the saga participant of <see cref="DemoParticipant"/>, in the foreground until Ctrl-C.</summary>
public sealed class ParticipantCommand : AsyncCommand<ParticipantSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ParticipantSettings settings, CancellationToken cancellationToken)
    {
        await using var participant = await DemoParticipant.StartAsync(settings.Port, settings.Name, cancellationToken);
        Console.WriteLine(ServiceProcess.ReadyPrefix + participant.Address);
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
