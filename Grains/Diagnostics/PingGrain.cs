namespace Reliability.Diagnostics;

public sealed class PingGrain : Grain, IPingGrain
{
    public ValueTask Ping() => ValueTask.CompletedTask;
}
