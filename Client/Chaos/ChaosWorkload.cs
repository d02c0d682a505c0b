using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Reliability.Client.Infrastructure;

namespace Reliability.Client.Chaos;

/// <summary>An add-to-cart POST and what its client finally heard.</summary>
public sealed record CartOp(string Cart, string Key, string Sku)
{
    /// <summary>True once a 200/201 came back; null if the client never got a definite answer.</summary>
    public bool? Acknowledged { get; set; }

    public string? Refusal { get; set; }
}

/// <summary>A saga the load started (transfer or order), as acknowledged by a 201/202.</summary>
public sealed record StartedSaga(string SagaId, string Kind, string? Sku, int Quantity);

/// <summary>Allowed and denied checks of one rate-limited subject, and when its first and last check were sent.</summary>
public sealed class SubjectCount
{
    public long Allowed;
    public long Denied;
    public TimeSpan First = TimeSpan.MaxValue;
    public TimeSpan Last;
}

/// <summary>One rate-limit check that was decided: when it was sent, for which subject, and whether it was allowed.</summary>
public sealed record RateCheck(TimeSpan At, string Subject, bool Allowed);

/// <summary>
/// The mixed load of a chaos run, in lanes (each a sequential client): idempotent add-to-cart POSTs retried
/// with the same key until answered, transfer and order sagas (also idempotent POSTs), view queries that
/// pass the order's consistency tokens, and rate-limit checks against a token bucket.
/// </summary>
public sealed class ChaosWorkload(ChaosHttp http, Availability clock, string run)
{
    public const int Accounts = 20;
    public const decimal InitialBalance = 1_000m;
    public const int Skus = 5;
    public const int StockPerSku = 100;
    public const int Customers = 10;
    public const string Policy = "chaos-bucket";
    public const long BucketCapacity = 20;
    public const long BucketRatePerSecond = 2;

    /// <summary>How long a request started before the end of the load may keep retrying.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(45);

    private const int ItemsPerCart = 100;
    private const int SubjectsPerLane = 5;

    public ConcurrentQueue<CartOp> Carts { get; } = new();

    public ConcurrentQueue<StartedSaga> Sagas { get; } = new();

    /// <summary>Successful answers (200, 201, 202) whose body did not say what they answered (a saga id, a cart): a client could not use them.</summary>
    public ConcurrentQueue<string> Bodyless { get; } = new();

    /// <summary>Order and transfer POSTs that never got a definite answer: each may or may not have started a saga.</summary>
    public int UnacknowledgedSagaPosts => _unacknowledgedSagaPosts;

    public ConcurrentDictionary<string, SubjectCount> Subjects { get; } = new(StringComparer.Ordinal);

    /// <summary>Every decided check in order of sending, for over-admission within a time window (partition drills).</summary>
    public ConcurrentQueue<RateCheck> RateChecks { get; } = new();

    public long FreshReads => Interlocked.Read(ref _freshReads);

    public long StaleReads => Interlocked.Read(ref _staleReads);

    private int _unacknowledgedSagaPosts;
    private long _endTicks = long.MaxValue;
    private long _freshReads;
    private long _staleReads;

    public string AccountId(int i) => $"{run}-acct-{i}";

    public string Sku(int i) => $"{run}-sku-{i}";

    public string CustomerId(int i) => $"{run}-cust-{i}";

    public IEnumerable<string> AllAccounts => Enumerable.Range(0, Accounts).Select(AccountId);

    public IEnumerable<string> AllSkus => Enumerable.Range(0, Skus).Select(Sku);

    /// <summary>Accounts, stock and the rate-limit policy, through the admin API (as a loopback caller, or with the admin token <see cref="ChaosHttp"/> was given).</summary>
    public async Task SetUpAsync(CancellationToken cancellationToken)
    {
        await RequireAsync(HttpMethod.Put, $"/api/admin/ratelimit/policies/{Policy}",
            $$"""{"algorithm":"token-bucket","limit":{{BucketCapacity}},"period":"1s","rate":{{BucketRatePerSecond}}}""", cancellationToken);
        foreach (var account in AllAccounts)
        {
            await RequireAsync(HttpMethod.Put, $"/api/admin/accounts/{account}", $$"""{"balance":{{InitialBalance}}}""", cancellationToken);
        }

        foreach (var sku in AllSkus)
        {
            await RequireAsync(HttpMethod.Post, $"/api/admin/inventory/{sku}/restock", $$"""{"quantity":{{StockPerSku}},"unitPrice":2}""", cancellationToken);
        }
    }

    /// <summary>
    /// Ends the lanes at <paramref name="end"/> instead of the end they were started with, for a run whose
    /// length is known only as it goes (the partition drills). A request begun before it keeps its grace.
    /// </summary>
    public void EndAt(TimeSpan end) => Interlocked.Exchange(ref _endTicks, end.Ticks);

    /// <summary>True once the end given by <see cref="EndAt"/> is more than <see cref="Grace"/> ago.</summary>
    private bool PastGrace => Interlocked.Read(ref _endTicks) is var end && end != long.MaxValue && clock.Now.Ticks > end + Grace.Ticks;

    private TimeSpan End(TimeSpan until) => TimeSpan.FromTicks(Math.Min(until.Ticks, Interlocked.Read(ref _endTicks)));

    public async Task CartLaneAsync(int lane, TimeSpan until, CancellationToken cancellationToken)
    {
        var name = $"cart-{lane}";
        for (var i = 0; clock.Now < End(until) && !cancellationToken.IsCancellationRequested; i++)
        {
            var op = new CartOp($"{run}-cart-{lane}-{i / ItemsPerCart}", $"{run}-item-{lane}-{i}", $"s{lane}-{i}");
            Carts.Enqueue(op);
            var reply = await PostUntilAnsweredAsync(name, $"/api/carts/{op.Cart}/items", $$"""{"sku":"{{op.Sku}}","quantity":1}""", op.Key, End(until) + Grace, cancellationToken);
            op.Acknowledged = reply is null ? null : reply.Status is 200 or 201;
            op.Refusal = reply is { Status: not (200 or 201) } ? reply.ToString() : null;
            if (op.Acknowledged == true && Property(reply!, "cartId") is null)
            {
                Bodyless.Enqueue($"{op.Key}: {reply}");
            }
        }
    }

    public async Task TransferLaneAsync(int lane, TimeSpan until, CancellationToken cancellationToken)
    {
        var name = $"transfer-{lane}";
        for (var i = 0; clock.Now < End(until) && !cancellationToken.IsCancellationRequested; i++)
        {
            var from = Random.Shared.Next(Accounts);
            var to = (from + 1 + Random.Shared.Next(Accounts - 1)) % Accounts;
            var amount = Random.Shared.Next(1, 300);
            var json = $$"""{"from":"{{AccountId(from)}}","to":"{{AccountId(to)}}","amount":{{amount}}}""";
            var reply = await PostUntilAnsweredAsync(name, "/api/transfers", json, $"{run}-transfer-{lane}-{i}", End(until) + Grace, cancellationToken);
            Started(reply, "transfer", null, 0);
        }
    }

    /// <summary>Places orders and reads each back from the order-summary view with its consistency tokens.</summary>
    public async Task OrderLaneAsync(int lane, TimeSpan until, CancellationToken cancellationToken)
    {
        var name = $"order-{lane}";
        for (var i = 0; clock.Now < End(until) && !cancellationToken.IsCancellationRequested; i++)
        {
            var sku = Sku(Random.Shared.Next(Skus));
            var quantity = Random.Shared.Next(1, 4);
            var json = $$"""{"customerId":"{{CustomerId(Random.Shared.Next(Customers))}}","items":[{"sku":"{{sku}}","quantity":{{quantity}}}]}""";
            var reply = await PostUntilAnsweredAsync(name, "/api/orders", json, $"{run}-order-{lane}-{i}", End(until) + Grace, cancellationToken);
            if (Started(reply, "order", sku, quantity) is not { } saga)
            {
                continue;
            }

            var tokens = string.Join(',', saga.GetProperty("consistency").EnumerateArray().Select(t => t.GetString()));
            var orderId = saga.GetProperty("sagaId").GetString()!["order-".Length..];
            var read = await http.SendAsync($"{name}-view", HttpMethod.Get, $"/api/orders/{orderId}/summary?after={Uri.EscapeDataString(tokens)}&wait=5", cancellationToken: cancellationToken);
            if (read.Status != 200)
            {
                continue;
            }

            if (JsonDocument.Parse(read.Body).RootElement.GetProperty("stale").GetBoolean())
            {
                Interlocked.Increment(ref _staleReads);
            }
            else
            {
                Interlocked.Increment(ref _freshReads);
            }
        }
    }

    /// <summary>Checks against the token bucket, round-robin over this lane's subjects, as fast as answers come.</summary>
    public async Task RateLimitLaneAsync(int lane, TimeSpan until, CancellationToken cancellationToken)
    {
        var name = $"ratelimit-{lane}";
        for (var i = 0; clock.Now < End(until) && !cancellationToken.IsCancellationRequested; i++)
        {
            var subject = $"{run}-subject-{lane}-{i % SubjectsPerLane}";
            var count = Subjects.GetOrAdd(subject, _ => new SubjectCount());
            var sent = clock.Now;
            var reply = await http.SendAsync(name, HttpMethod.Post, "/api/ratelimit/check", $$"""{"subject":"{{subject}}","policy":"{{Policy}}"}""", cancellationToken: cancellationToken);
            if (reply.Status is 200 or 429)
            {
                lock (count)
                {
                    _ = reply.Status == 200 ? count.Allowed++ : count.Denied++;
                    count.First = sent < count.First ? sent : count.First;
                    count.Last = clock.Now;
                }

                RateChecks.Enqueue(new RateCheck(sent, subject, reply.Status == 200));
            }

            await Task.Delay(reply.Unavailable ? 50 : 5, cancellationToken);
        }
    }

    /// <summary>
    /// The saga a definite answer started: a 201 or 202, or a replay of one (200 for a replayed 201; 202 stays
    /// 202). Like a client, it reads the saga id from the body; an answer without one is counted as bodyless.
    /// </summary>
    private JsonElement? Started(Reply? reply, string kind, string? sku, int quantity)
    {
        if (reply is null)
        {
            Interlocked.Increment(ref _unacknowledgedSagaPosts);
            return null;
        }

        if (reply.Status is not (200 or 201 or 202))
        {
            // A definite refusal (e.g. 422 for a validation rule): no saga started.
            return null;
        }

        if (Property(reply, "sagaId") is not { } sagaId)
        {
            Bodyless.Enqueue($"{kind}: {reply}");
            Interlocked.Increment(ref _unacknowledgedSagaPosts);
            return null;
        }

        var saga = JsonDocument.Parse(reply.Body).RootElement;
        Sagas.Enqueue(new StartedSaga(sagaId, kind, sku, quantity));
        return saga;
    }

    /// <summary>A string property of a JSON object body, or null if the body is empty, not JSON, or lacks it.</summary>
    private static string? Property(Reply reply, string name)
    {
        try
        {
            using var body = JsonDocument.Parse(reply.Body);
            return body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// POSTs with an Idempotency-Key until a definite answer comes: anything but no answer, a 5xx, a 429 or
    /// a 409 "still in progress" (the first attempt's silo may have died holding the key's lease). Null if
    /// none came before <paramref name="giveUpAt"/>.
    /// </summary>
    private async Task<Reply?> PostUntilAnsweredAsync(string lane, string path, string json, string key, TimeSpan giveUpAt, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = key, ["Prefer"] = "wait=5" };
        while (clock.Now < giveUpAt && !PastGrace && !cancellationToken.IsCancellationRequested)
        {
            var reply = await http.SendAsync(lane, HttpMethod.Post, path, json, headers, cancellationToken);
            if (reply.Answered && reply.Status is not (409 or 429) && reply.Status < 500)
            {
                return reply;
            }

            await Task.Delay(reply.Answered ? 250 : 50, cancellationToken);
        }

        return null;
    }

    private async Task RequireAsync(HttpMethod method, string path, string json, CancellationToken cancellationToken)
    {
        var reply = await http.SendAsync("setup", method, path, json, cancellationToken: cancellationToken);
        if (reply.Status is < 200 or >= 300)
        {
            throw new CommandException($"setting up the chaos run: {method} {path} answered {reply}");
        }
    }

    public static string Money(decimal amount) => amount.ToString("0.##", CultureInfo.InvariantCulture);
}
