namespace Reliability.Diagnostics;

/// <summary>A persisted counter: every acknowledged <see cref="Add"/> is durable before it returns.</summary>
[Alias("diagnostics.counter")]
public interface ICounterGrain : IGrainWithStringKey
{
    Task<CounterSnapshot> Add(long amount);

    Task<CounterSnapshot> Get();
}
