using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Reliability.Client.Commands.Projections;
using Reliability.Client.Infrastructure;
using Reliability.Projections;
using Spectre.Console;

namespace Reliability.Client.Bench;

/// <summary>
/// The JavaScript half of <c>bench projections --js</c>: the orders view written as a script (one view per
/// order, joining its lifecycle, reservations and payment, like the built-in order summary), its live lag,
/// its rebuild against the C# one, and ingestion over HTTP into an open store.
/// </summary>
public static class JsProjectionBench
{
    public const string Name = "orders-js";

    public const string OrdersScript =
        """
        fromStores(['orders', 'inventory', 'payments'])
          .partitionBy(e => {
            if (e.store === 'orders') return e.stream.substring(e.stream.indexOf('-') + 1);
            if (e.store === 'inventory') {
              const r = e.data.reservationId, colon = r ? r.lastIndexOf(':') : -1;
              return colon > 0 ? r.substring(0, colon) : null;
            }
            return e.stream.startsWith('payment-order-') ? e.stream.substring(14) : null;
          })
          .when({
            $init: () => ({ status: 'None', customerId: null, lines: [], total: 0, payment: 'None', reservations: {} }),
            OrderCreated: (s, e) => {
              s.status = 'Created';
              s.customerId = e.data.customerId;
              s.lines = e.data.lines;
              s.total = e.data.lines.reduce((t, l) => t + l.quantity * l.unitPrice, 0);
              return s;
            },
            OrderConfirmed: (s) => { s.status = 'Confirmed'; return s; },
            OrderCancelled: (s) => { s.status = 'Cancelled'; return s; },
            StockReserved: (s, e) => { s.reservations[e.data.reservationId] = { quantity: e.data.quantity, state: 'Reserved' }; return s; },
            StockReleased: (s, e) => { s.reservations[e.data.reservationId] = { quantity: e.data.quantity, state: 'Released' }; return s; },
            ReservationRejected: (s, e) => { s.reservations[e.data.reservationId] = { quantity: e.data.quantity, state: 'Rejected' }; return s; },
            PaymentCharged: (s) => { s.payment = 'Charged'; return s; },
            PaymentRefunded: (s) => { s.payment = 'Refunded'; return s; },
          });
        """;

    /// <summary>Registers the script (before the saga load, so its live lag is measured beside the others').</summary>
    public static async Task RegisterAsync(ApiClient api, CancellationToken cancellationToken)
    {
        await OpenApi.SendAsync(api, HttpMethod.Put, $"/api/admin/projections/{Name}", JsonSerializer.Serialize(new { script = OrdersScript }), null, cancellationToken);
        await ProjectionPutCommand.FollowAsync(api, Name, 1, null, cancellationToken);
    }

    /// <summary>Waits until the JavaScript projection has applied everything.</summary>
    public static async Task CaughtUpAsync(IClusterClient client, CancellationToken cancellationToken)
    {
        var runner = client.GetGrain<IProjectionRunnerGrain>(Name);
        while ((await runner.GetStatus()).Sources.Sum(s => s.EventsBehind) > 0)
        {
            await Task.Delay(250, cancellationToken);
        }
    }

    /// <summary>
    /// Appends over HTTP at <paramref name="inFlight"/> requests in flight for <paramref name="duration"/>, each
    /// lane to a stream of its own at the exact expected version (so no append conflicts), with
    /// <paramref name="perAppend"/> events per request; gives events/s and the latency percentiles.
    /// </summary>
    public static async Task<(double EventsPerSecond, double P50Ms, double P99Ms, string Errors)> IngestAsync(
        ApiClient api, string store, int inFlight, int perAppend, TimeSpan duration, CancellationToken cancellationToken)
    {
        var histogram = new LatencyHistogram();
        long events = 0;
        var errors = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        var run = Guid.NewGuid().ToString("N")[..6];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(duration);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async lane =>
        {
            // Each lane is a producer of its own (its own API key), as many services would be.
            var headers = new Dictionary<string, string> { ["X-Api-Key"] = $"bench-producer-{run}-{lane}" };
            var version = 0;
            while (!stop.IsCancellationRequested)
            {
                var batch = Enumerable.Range(0, perAppend).Select(i => new { id = Guid.NewGuid(), type = "Measured", data = new { lane, n = version + i } });
                var body = JsonSerializer.Serialize(new { expectedVersion = version, events = batch });
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await api.SendAsync(HttpMethod.Post, lane, $"/api/streams/{store}/{run}-{lane}", body, headers, CancellationToken.None);
                    if (response.StatusCode == System.Net.HttpStatusCode.Created)
                    {
                        histogram.Record(Stopwatch.GetElapsedTime(started));
                        version += perAppend;
                        Interlocked.Add(ref events, perAppend);
                    }
                    else
                    {
                        errors.AddOrUpdate(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
                        version = (int)(JsonDocument.Parse(await response.Content.ReadAsStringAsync(CancellationToken.None)).RootElement.TryGetProperty("currentVersion", out var current) ? current.GetInt32() : version);
                    }
                }
                catch (CommandException)
                {
                    errors.AddOrUpdate("no answer", 1, (_, n) => n + 1);
                }
            }
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        var described = errors.IsEmpty ? "0" : string.Join(", ", errors.OrderBy(e => e.Key).Select(e => $"{e.Value} × {e.Key}"));
        return (events / seconds, histogram.PercentileMs(50), histogram.PercentileMs(99), described);
    }

    public static string Format(double value, string format = "N0") => value.ToString(format, CultureInfo.InvariantCulture);

    public static Table IngestTable(IEnumerable<(int PerAppend, (double EventsPerSecond, double P50Ms, double P99Ms, string Errors) Result)> rows, int inFlight) =>
        rows.Aggregate(
            new Table().Title($"ingestion over HTTP into an open store, {inFlight} appends in flight, durable PostgreSQL").AddColumns("events per append", "events/s", "p50 ms", "p99 ms", "errors"),
            (table, row) => table.AddRow(row.PerAppend.ToString(CultureInfo.InvariantCulture), Format(row.Result.EventsPerSecond), Format(row.Result.P50Ms, "0.0"), Format(row.Result.P99Ms, "0.0"),
                row.Result.Errors));
}
