using System.Text.Json;
using Reliability.Projections;
using Reliability.Sagas;

namespace Reliability.Client.Chaos;

/// <summary>One invariant and whether it held, with the figures behind it.</summary>
public sealed record InvariantResult(string Invariant, bool Held, string Detail);

/// <summary>
/// After the load: reads everything back over HTTP (retrying until the cluster answers) and checks the
/// invariants of every capability.
/// </summary>
public sealed class ChaosVerifier(ChaosHttp http, ChaosWorkload load, Availability clock, int failovers, Action<string> progress)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public async Task<IReadOnlyList<InvariantResult>> VerifyAsync(CancellationToken cancellationToken)
    {
        var results = new List<InvariantResult>
        {
            await CartsAsync(cancellationToken),
        };
        var (terminal, sagas) = await SagasAsync(cancellationToken);
        results.Add(terminal);
        progress("checking balances and stock");
        var balances = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var account in load.AllAccounts)
        {
            balances[account] = (await GetAsync($"/api/accounts/{account}", cancellationToken)).GetProperty("balance").GetDecimal();
        }

        results.Add(Money(balances));
        results.Add(await StockAsync(sagas, cancellationToken));
        results.Add(await ViewsAsync(sagas, balances, cancellationToken));
        results.Add(RateLimits());
        results.Add(Bodies());
        return results;
    }

    /// <summary>Every successful answer, first or replayed, carried its body: what a client needs to go on (its cart, its saga id).</summary>
    private InvariantResult Bodies()
    {
        var bodyless = load.Bodyless.ToList();
        return new InvariantResult("every 200/201/202 carries its full body", bodyless.Count == 0,
            bodyless.Count == 0 ? $"{load.Sagas.Count + load.Carts.Count(c => c.Acknowledged == true):N0} answers, each with its saga id or cart"
                : $"{bodyless.Count} without: {string.Join("; ", bodyless.Take(3))}");
    }

    /// <summary>Every acknowledged add-to-cart is in its cart exactly once; unanswered ones at most once; nothing else is there.</summary>
    private async Task<InvariantResult> CartsAsync(CancellationToken cancellationToken)
    {
        progress("checking carts against the acknowledged keys");
        var ops = load.Carts.ToList();
        var problems = new List<string>();
        var appliedUnanswered = 0;
        foreach (var cart in ops.GroupBy(o => o.Cart))
        {
            var items = (await GetAsync($"/api/carts/{cart.Key}", cancellationToken)).GetProperty("items").EnumerateArray()
                .Select(i => i.GetProperty("sku").GetString()!).ToList();
            var counts = items.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
            foreach (var op in cart)
            {
                var n = counts.GetValueOrDefault(op.Sku);
                switch (op.Acknowledged)
                {
                    case true when n != 1:
                        problems.Add($"{op.Key}: acknowledged, found {n} times in {op.Cart}");
                        break;
                    case false when n != 0:
                        problems.Add($"{op.Key}: refused ({op.Refusal}), yet found {n} times");
                        break;
                    case null when n > 1:
                        problems.Add($"{op.Key}: unanswered, found {n} times");
                        break;
                    case null when n == 1:
                        appliedUnanswered++;
                        break;
                }
            }

            var unknown = counts.Keys.Except(cart.Select(o => o.Sku)).ToList();
            if (unknown.Count > 0)
            {
                problems.Add($"{cart.Key} holds items nobody sent: {string.Join(", ", unknown.Take(3))}");
            }
        }

        var acknowledged = ops.Count(o => o.Acknowledged == true);
        var unanswered = ops.Count(o => o.Acknowledged is null);
        var refused = ops.Count(o => o.Acknowledged == false);
        return new InvariantResult("carts match the acknowledged keys (none lost, none applied twice)", problems.Count == 0 && refused == 0,
            $"{acknowledged:N0} acknowledged, {unanswered} never answered ({appliedUnanswered} of them applied once), {refused} refused" +
            (problems.Count > 0 ? $"; {problems.Count} problems, e.g. {string.Join("; ", problems.Take(3))}" : ""));
    }

    /// <summary>Waits until every saga the load started, and every saga in the cluster, is terminal.</summary>
    private async Task<(InvariantResult Result, IReadOnlyList<(StartedSaga Saga, SagaStatus Status)> Sagas)> SagasAsync(CancellationToken cancellationToken)
    {
        progress("waiting for every saga to finish");
        var started = load.Sagas.ToList();
        var statuses = new List<(StartedSaga Saga, SagaStatus Status)>();
        var deadline = clock.Now + Patience;
        foreach (var saga in started)
        {
            SagaStatus status;
            while (true)
            {
                status = Enum.Parse<SagaStatus>((await GetAsync($"/api/sagas/{saga.SagaId}", cancellationToken)).GetProperty("status").GetString()!);
                if (status.IsTerminal() || clock.Now > deadline)
                {
                    break;
                }

                await Task.Delay(250, cancellationToken);
            }

            statuses.Add((saga, status));
        }

        var open = 0;
        foreach (var status in new[] { SagaStatus.Running, SagaStatus.Compensating })
        {
            while (true)
            {
                var listed = (await GetAsync($"/api/sagas?status={status}&limit=1000", cancellationToken)).GetProperty("sagas").GetArrayLength();
                if (listed == 0 || clock.Now > deadline)
                {
                    open += listed;
                    break;
                }

                await Task.Delay(500, cancellationToken);
            }
        }

        var notTerminal = statuses.Count(s => !s.Status.IsTerminal());
        var byStatus = string.Join(", ", statuses.GroupBy(s => s.Status.ToString()).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToLowerInvariant()}"));
        return (new InvariantResult("every saga is terminal", notTerminal == 0 && open == 0,
            $"{started.Count} started ({byStatus}); {load.UnacknowledgedSagaPosts} POSTs never answered; {open} sagas still running in the cluster"), statuses);
    }

    private static InvariantResult Money(IReadOnlyDictionary<string, decimal> balances)
    {
        var expected = ChaosWorkload.Accounts * ChaosWorkload.InitialBalance;
        var total = balances.Values.Sum();
        return new InvariantResult("money is conserved and no balance is negative", total == expected && balances.Values.All(b => b >= 0),
            $"total {ChaosWorkload.Money(total)} (expected {ChaosWorkload.Money(expected)}), lowest balance {ChaosWorkload.Money(balances.Values.Min())}");
    }

    private async Task<InvariantResult> StockAsync(IReadOnlyList<(StartedSaga Saga, SagaStatus Status)> sagas, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var exact = load.UnacknowledgedSagaPosts == 0;
        foreach (var sku in load.AllSkus)
        {
            var stock = await GetAsync($"/api/inventory/{sku}", cancellationToken);
            var (onHand, reserved) = (stock.GetProperty("onHand").GetInt32(), stock.GetProperty("reserved").GetInt32());
            var sold = sagas.Where(s => s.Saga.Sku == sku && s.Status == SagaStatus.Completed).Sum(s => s.Saga.Quantity);
            if (onHand != ChaosWorkload.StockPerSku || reserved < 0 || reserved > onHand || (exact ? reserved != sold : reserved < sold))
            {
                problems.Add($"{sku}: on hand {onHand}, reserved {reserved}, completed orders hold {sold}");
            }
        }

        return new InvariantResult("no stock oversold; reservations match completed orders", problems.Count == 0,
            problems.Count == 0 ? $"{ChaosWorkload.Skus} SKUs of {ChaosWorkload.StockPerSku}: reservations equal the completed orders{(exact ? "" : " (at least: some POSTs were never answered)")}" : string.Join("; ", problems));
    }

    /// <summary>
    /// Once the projections have caught up, every view the load touched equals what a fresh rebuild of its
    /// projection produces from the event tables, and each account statement's balance equals the account's.
    /// </summary>
    private async Task<InvariantResult> ViewsAsync(IReadOnlyList<(StartedSaga Saga, SagaStatus Status)> sagas, IReadOnlyDictionary<string, decimal> balances, CancellationToken cancellationToken)
    {
        progress("waiting for the projections to catch up");
        await CaughtUpAsync(cancellationToken);
        var orders = sagas.Where(s => s.Saga.Kind == "order").Select(s => s.Saga.SagaId["order-".Length..]).ToList();
        var paths = orders.Select(o => $"/api/orders/{o}/summary")
            .Concat(Enumerable.Range(0, ChaosWorkload.Customers).Select(c => $"/api/customers/{load.CustomerId(c)}/orders"))
            .Concat(load.AllAccounts.Select(a => $"/api/accounts/{a}/statement"))
            .Append("/api/totals")
            .ToList();
        var before = await SnapshotAsync(paths, cancellationToken);

        var problems = new List<string>();
        foreach (var (account, balance) in balances)
        {
            var statement = JsonDocument.Parse(before[$"/api/accounts/{account}/statement"]).RootElement;
            if (statement.ValueKind != JsonValueKind.Object || statement.GetProperty("balance").GetDecimal() != balance)
            {
                problems.Add($"statement of {account} says {statement}, the account holds {ChaosWorkload.Money(balance)}");
            }
        }

        foreach (var projection in ProjectionNames.All)
        {
            progress($"rebuilding projection {projection} to compare");
            await RebuildAsync(projection, cancellationToken);
        }

        var after = await SnapshotAsync(paths, cancellationToken);
        problems.AddRange(paths.Where(p => before[p] != after[p]).Select(p => $"{p}: live {Shorten(before[p])} vs rebuilt {Shorten(after[p])}"));
        return new InvariantResult("every event is in the views exactly once (views equal a fresh rebuild)", problems.Count == 0,
            $"{paths.Count} views compared after rebuilding {string.Join(", ", ProjectionNames.All)}; read-your-writes: {load.FreshReads} fresh, {load.StaleReads} stale" +
            (problems.Count > 0 ? $"; {problems.Count} differ, e.g. {string.Join("; ", problems.Take(2))}" : ""));
    }

    /// <summary>Allowed checks per subject stay within capacity + refill over its time, plus one burst per failover.</summary>
    private InvariantResult RateLimits()
    {
        var worst = 0.0;
        var over = new List<string>();
        long allowed = 0, denied = 0;
        foreach (var (subject, count) in load.Subjects)
        {
            lock (count)
            {
                allowed += count.Allowed;
                denied += count.Denied;
                var seconds = Math.Max(0, (count.Last - count.First).TotalSeconds);
                var ceiling = ChaosWorkload.BucketCapacity + ChaosWorkload.BucketRatePerSecond * seconds;
                var bursts = (count.Allowed - ceiling) / ChaosWorkload.BucketCapacity;
                worst = Math.Max(worst, bursts);
                if (bursts > failovers)
                {
                    over.Add($"{subject}: {count.Allowed} allowed in {seconds:0.0} s");
                }
            }
        }

        return new InvariantResult("rate-limit over-admission within one burst per failover", over.Count == 0,
            $"{load.Subjects.Count} subjects, {allowed:N0} allowed, {denied:N0} denied; worst subject {Math.Max(0, worst):0.00} bursts over its limit (allowed: {failovers}, one per failover)" +
            (over.Count > 0 ? $"; over: {string.Join("; ", over.Take(3))}" : ""));
    }

    private async Task CaughtUpAsync(CancellationToken cancellationToken)
    {
        var deadline = clock.Now + Patience;
        while (clock.Now < deadline)
        {
            var statuses = await GetAsync("/api/projections", cancellationToken);
            if (statuses.GetProperty("projections").EnumerateArray().All(s => s.GetProperty("sources").EnumerateArray().All(x => x.GetProperty("eventsBehind").GetInt64() == 0)))
            {
                return;
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private async Task RebuildAsync(string projection, CancellationToken cancellationToken)
    {
        var live = (await GetAsync($"/api/projections/{projection}", cancellationToken)).GetProperty("liveGeneration").GetInt32();
        var reply = await http.SendAsync("verify", HttpMethod.Post, $"/api/admin/projections/{projection}/rebuild", "{}", cancellationToken: cancellationToken);
        if (reply.Status != 202)
        {
            throw new InvalidOperationException($"rebuild of {projection} answered {reply}");
        }

        var deadline = clock.Now + Patience;
        while (clock.Now < deadline)
        {
            var status = await GetAsync($"/api/projections/{projection}", cancellationToken);
            if (status.GetProperty("liveGeneration").GetInt32() > live && status.GetProperty("rebuildingGeneration").ValueKind == JsonValueKind.Null)
            {
                return;
            }

            await Task.Delay(250, cancellationToken);
        }

        throw new TimeoutException($"the rebuild of {projection} did not finish within {Patience.TotalSeconds:0} s");
    }

    private async Task<Dictionary<string, string>> SnapshotAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        var views = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            var read = await GetAsync(path, cancellationToken);
            views[path] = read.GetProperty("view").GetRawText();
        }

        return views;
    }

    /// <summary>GET until the cluster answers 200 (it may still be settling after the last fault).</summary>
    private async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = clock.Now + Patience;
        while (true)
        {
            var reply = await http.SendAsync("verify", HttpMethod.Get, path, cancellationToken: cancellationToken);
            if (reply.Status == 200)
            {
                return JsonDocument.Parse(reply.Body).RootElement;
            }

            if (clock.Now > deadline || reply.Status is >= 400 and < 500)
            {
                throw new InvalidOperationException($"GET {path} answered {reply}");
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private static string Shorten(string json) => json.Length <= 160 ? json : json[..160] + "…";
}
