using Reliability.Sagas;
using Reliability.Services;
using Spectre.Console;

namespace Reliability.Client.Bench;

/// <summary>
/// The saga benchmark's load (also run under <c>bench projections</c>): transfers of 1 between random
/// accounts, each measured from Start until its saga is terminal; a transfer that does not complete
/// counts as an error.
/// </summary>
public static class TransferLoad
{
    /// <summary>Opens <paramref name="count"/> accounts with a balance no benchmark can exhaust.</summary>
    public static async Task<string[]> OpenAccountsAsync(IClusterClient client, int count)
    {
        var accounts = Enumerable.Range(0, count).Select(i => $"bench-{i}").ToArray();
        await AnsiConsole.Status().StartAsync($"opening {accounts.Length:N0} accounts…", _ =>
            Parallel.ForEachAsync(accounts, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (a, _) => await client.GetGrain<IAccountGrain>(a).Open("open", 1_000_000m)));
        return accounts;
    }

    public static Task<LoadResult> RunAsync(IClusterClient client, string[] accounts, int inFlight, TimeSpan warmUp, TimeSpan duration, CancellationToken cancellationToken) =>
        AnsiConsole.Status().StartAsync("running transfers…", _ => LoadRunner.RunAsync("transfer saga", inFlight, warmUp, duration, Operation(client, accounts), cancellationToken));

    /// <summary>One transfer of 1 between two random accounts, from Start until its saga is terminal; operation i is saga "transfer-&lt;run&gt;-i".</summary>
    public static Func<long, ValueTask> Operation(IClusterClient client, string[] accounts)
    {
        var run = Guid.NewGuid().ToString("N")[..6];
        return async i =>
        {
            var from = Random.Shared.Next(accounts.Length);
            var to = (from + 1 + Random.Shared.Next(accounts.Length - 1)) % accounts.Length;
            var id = $"{run}-{i}";
            var saga = client.GetGrain<ISagaGrain>($"transfer-{id}");
            var view = await saga.StartWorkflow(SagaDefinitions.Transfer(id, accounts[from], accounts[to], 1m));
            while (!view.Status.IsTerminal())
            {
                view = await saga.WaitForTerminal(TimeSpan.FromSeconds(4)) ?? view;
            }

            if (view.Status != SagaStatus.Completed)
            {
                throw new InvalidOperationException($"Transfer {id} ended {view.Status}: {view.FailureReason}");
            }
        };
    }
}
