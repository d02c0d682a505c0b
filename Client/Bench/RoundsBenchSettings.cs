using System.ComponentModel;
using Reliability.Client.Infrastructure;
using Spectre.Console.Cli;

namespace Reliability.Client.Bench;

/// <summary>The options every benchmark of interleaved rounds has (see <see cref="LoadRunner.RunRoundsAsync"/>): silos, measured time, rounds.</summary>
public abstract class RoundsBenchSettings : CommandSettings
{
    [CommandOption("--silos <N>")]
    [DefaultValue(1)]
    public int Silos { get; init; } = 1;

    [CommandOption("--duration <DURATION>")]
    [Description("Measured time per scenario (default 10s), after a warm-up of a third of it.")]
    [DefaultValue("10s")]
    public string Duration { get; init; } = "10s";

    [CommandOption("--rounds <N>")]
    [Description("Each scenario is measured this many times, interleaved with the others; medians are reported (default 3).")]
    [DefaultValue(3)]
    public int Rounds { get; init; } = 3;

    /// <summary><see cref="Duration"/>, at least a second.</summary>
    public TimeSpan MeasuredDuration() =>
        Durations.TryParse(Duration, out var duration) && duration >= TimeSpan.FromSeconds(1)
            ? duration
            : throw new CommandException($"--duration must be at least 1s (got '{Duration}').");
}
