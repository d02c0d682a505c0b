namespace Reliability.Diagnostics;

/// <summary>A grain that does nothing: the ceiling any grain call is measured against.</summary>
[Alias("diagnostics.ping")]
public interface IPingGrain : IGrainWithStringKey
{
    ValueTask Ping();
}
