using System.Collections.Concurrent;
using System.Diagnostics;
using Reliability.Client.Infrastructure;

namespace Reliability.Client.Chaos;

/// <summary>What a request got: a status and body, or no answer at all (<see cref="Error"/>).</summary>
public sealed record Reply(int Status, string Body, string? Error)
{
    public bool Answered => Error is null;

    /// <summary>The service did not serve the request: no answer, or a 5xx.</summary>
    public bool Unavailable => !Answered || Status >= 500;

    public override string ToString() => Answered ? $"{Status} {Body[..Math.Min(Body.Length, 200)]}" : $"no answer: {Error}";
}

/// <summary>
/// Sends requests as a client behind a load balancer would see the cluster: to the silos in turn, with a
/// short connect timeout and a passive health check (a silo that refused a connection gets no requests
/// for <see cref="SkipAfterRefusal"/>, as a proxy's failure counting would do), and a 10 s overall
/// timeout. Every attempt is recorded per lane (one worker's sequence of requests) for the availability
/// report, and per silo (<see cref="Attempts"/>) for the partition drills' availability per side.
/// With an <paramref name="adminToken"/>, every request carries it (silos reached over a drill's network are
/// not loopback callers).
/// </summary>
public sealed class ChaosHttp(IReadOnlyList<string> siloUrls, string apiKey, Availability availability, string? adminToken = null) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        PooledConnectionLifetime = TimeSpan.FromSeconds(30),
    })
    {
        Timeout = TimeSpan.FromSeconds(10),
    };

    private static readonly TimeSpan SkipAfterRefusal = TimeSpan.FromSeconds(2);

    private readonly long[] _skipUntil = new long[siloUrls.Count];
    private int _next;

    private readonly ConcurrentQueue<Attempt> _attempts = new();

    /// <summary>Every request sent, with the silo it went to and whether it was served.</summary>
    public IReadOnlyList<Attempt> Attempts => [.. _attempts];

    public Task<Reply> SendAsync(string lane, HttpMethod method, string path, string? json = null, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default) =>
        SendToAsync(PickSilo(), lane, method, path, json, headers, cancellationToken);

    /// <summary>One request to the silo of that index (0-based, in the order of the URLs given), past the load balancing.</summary>
    public async Task<Reply> SendToAsync(int silo, string lane, HttpMethod method, string path, string? json = null, IReadOnlyDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
    {
        using var request = ApiClient.CreateRequest(siloUrls[silo], method, path, json, headers, apiKey);
        if (adminToken is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
        }

        var sent = availability.Now;

        Reply reply;
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            reply = new Reply((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken), null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            reply = new Reply(0, "", ex is TaskCanceledException ? "timed out after 10 s" : ex.Message);
            if (ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
            {
                Volatile.Write(ref _skipUntil[silo], Environment.TickCount64 + (long)SkipAfterRefusal.TotalMilliseconds);
            }
        }

        availability.Record(lane, !reply.Unavailable);
        _attempts.Enqueue(new Attempt(sent, availability.Now, silo, lane, reply.Answered ? reply.Status : 0));
        return reply;
    }

    /// <summary>The next silo in turn that has not just refused a connection (or simply the next, if all have).</summary>
    private int PickSilo()
    {
        var now = Environment.TickCount64;
        var first = (int)((uint)Interlocked.Increment(ref _next) % (uint)siloUrls.Count);
        for (var i = 0; i < siloUrls.Count; i++)
        {
            var silo = (first + i) % siloUrls.Count;
            if (Volatile.Read(ref _skipUntil[silo]) <= now)
            {
                return silo;
            }
        }

        return first;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>One request: when it was sent and answered (offsets from the start of the run), to which silo, from which lane, and its status (0: no answer).</summary>
public sealed record Attempt(TimeSpan At, TimeSpan Done, int Silo, string Lane, int Status)
{
    /// <summary>
    /// A definite answer a client can go on with: any status below 500 except 409, which here means "the
    /// first request with this key is still in progress" (a key whose owner is cut off answers it until healed).
    /// </summary>
    public bool Served => Status is > 0 and < 500 and not 409;
}

/// <summary>One stretch of time in which every request of a lane went unanswered (or got a 5xx).</summary>
public sealed record Outage(string Lane, TimeSpan Start, TimeSpan End, int FailedRequests)
{
    public TimeSpan Length => End - Start;
}

/// <summary>
/// Per lane, the runs of failed requests between successes: an outage lasts from its first failed
/// request until the next answered one. Times are offsets from the start of the run.
/// </summary>
public sealed class Availability
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentDictionary<string, LaneState> _lanes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Outage> _outages = new();
    private long _requests;
    private long _failures;

    public TimeSpan Now => _clock.Elapsed;

    public long Requests => Interlocked.Read(ref _requests);

    public long Failures => Interlocked.Read(ref _failures);

    public IReadOnlyList<Outage> Outages => [.. _outages];

    public void Record(string lane, bool ok)
    {
        Interlocked.Increment(ref _requests);
        var state = _lanes.GetOrAdd(lane, _ => new LaneState());
        var now = Now;
        lock (state)
        {
            if (ok)
            {
                EndOutage(lane, state, now);
                return;
            }

            Interlocked.Increment(ref _failures);
            state.FailingSince ??= now;
            state.Failed++;
        }
    }

    /// <summary>Closes the outages still open (a lane that never recovered) at the current time.</summary>
    public void Close()
    {
        var now = Now;
        foreach (var (lane, state) in _lanes)
        {
            lock (state)
            {
                EndOutage(lane, state, now);
            }
        }
    }

    /// <summary>Records the lane's outage, if one is open, as ending now. Called under the lane's lock.</summary>
    private void EndOutage(string lane, LaneState state, TimeSpan now)
    {
        if (state.FailingSince is { } since)
        {
            _outages.Enqueue(new Outage(lane, since, now, state.Failed));
            (state.FailingSince, state.Failed) = (null, 0);
        }
    }

    private sealed class LaneState
    {
        public TimeSpan? FailingSince { get; set; }

        public int Failed { get; set; }
    }
}
