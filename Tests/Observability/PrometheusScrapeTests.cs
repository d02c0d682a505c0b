using System.Net;
using System.Text;
using Reliability.Client.Infrastructure;
using Reliability.Silo.Http.Idempotency;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Observability;

/// <summary>
/// Debian's real Prometheus scrapes two silo processes' <c>/metrics</c> while some load runs, and the
/// queries of docs/observability.md are asked of it through its HTTP API.
/// </summary>
public sealed class PrometheusScrapeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task APrometheusScrapingTheSilos_AnswersTheDecisionSagaAndProjectionQueries()
    {
        var connectionString = await TestDatabase.CreateAsync("prometheus");
        var logs = Path.Combine(Path.GetTempPath(), "reliability-test-logs", Guid.NewGuid().ToString("N"));
        await using var cluster = new LocalCluster(RepositoryPaths.SiloAssembly(), connectionString, logs, new Dictionary<string, string> { ["Logging:Format"] = "simple" });
        var silos = Enumerable.Range(0, 2).Select(i => cluster.Start(LocalCluster.PlanEndpoint(i, preferDefaults: false))).ToList();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var token = timeout.Token;
        await Task.WhenAll(silos.Select(s => cluster.WaitUntilReadyAsync(s, TimeSpan.FromSeconds(90), token)));
        await using var prometheus = await PrometheusServer.StartAsync(silos.Select(s => $"127.0.0.1:{s.Endpoint.HttpPort}"), token);
        var http = silos.Select(s => new HttpClient { BaseAddress = new Uri(s.Endpoint.HttpUrl) }).ToList();

        // Rate limiting: a policy of 2 a minute, checked 5 times for one subject.
        await SendAsync(http[0], HttpMethod.Put, "/api/admin/ratelimit/policies/prom-tight", """{"algorithm":"fixed-window","limit":2,"period":"1m"}""", HttpStatusCode.OK, HttpStatusCode.Created);
        for (var i = 0; i < 5; i++)
        {
            using var check = await PostAsync(http[i % 2], "/api/ratelimit/check", """{"subject":"prom-subject","policy":"prom-tight"}""");
        }

        // Sagas: two transfers that complete and one that cannot (no such funds), through both silos.
        await SendAsync(http[0], HttpMethod.Put, "/api/admin/accounts/prom-alice", """{"balance":100}""", HttpStatusCode.Created);
        await SendAsync(http[0], HttpMethod.Put, "/api/admin/accounts/prom-bob", """{"balance":0}""", HttpStatusCode.Created);
        var transfers = new[] { ("t1", 10), ("t2", 20), ("t3", 1000) };
        foreach (var (key, amount) in transfers)
        {
            using var transfer = await PostAsync(http[key == "t2" ? 1 : 0], "/api/transfers", $$"""{"from":"prom-alice","to":"prom-bob","amount":{{amount}}}""", key);
            Assert.True(transfer.IsSuccessStatusCode, $"transfer {key}: {(int)transfer.StatusCode} {await transfer.Content.ReadAsStringAsync(token)}");
        }

        var targets = await prometheus.TargetsAsync(token);
        output.WriteLine(string.Join(", ", targets.Select(t => $"{t.Key} {t.Value}")));

        var denied = await prometheus.WaitForAsync("""sum(reliability_ratelimit_decisions_total{policy="prom-tight",outcome="denied"})""", v => v >= 3, Patience, token);
        var allowed = await prometheus.QueryAsync("""sum(reliability_ratelimit_decisions_total{policy="prom-tight",outcome="allowed"})""", token);
        var started = await prometheus.WaitForAsync("""sum(reliability_sagas_started_total{workflow="transfer"})""", v => v >= 3, Patience, token);
        var completed = await prometheus.WaitForAsync("""sum(reliability_sagas_ended_total{workflow="transfer",status="completed"})""", v => v >= 2, Patience, token);
        var notCompleted = await prometheus.WaitForAsync("""sum(reliability_sagas_ended_total{workflow="transfer",status!="completed"})""", v => v >= 1, Patience, token);
        var steps = await prometheus.WaitForAsync("""sum(reliability_saga_step_attempts_total{workflow="transfer"})""", v => v >= 4, Patience, token);
        var applied = await prometheus.WaitForAsync("""sum(reliability_projection_events_applied_total)""", v => v > 0, Patience, token);

        // A rate needs a series to grow between two scrapes: more checks and a fourth transfer, now that the histograms are scraped.
        for (var i = 0; i < 2; i++)
        {
            using var check = await PostAsync(http[i % 2], "/api/ratelimit/check", """{"subject":"prom-other","policy":"prom-tight"}""");
        }

        using (var transfer = await PostAsync(http[1], "/api/transfers", """{"from":"prom-alice","to":"prom-bob","amount":5}""", "t4"))
        {
            Assert.True(transfer.IsSuccessStatusCode, $"transfer t4: {(int)transfer.StatusCode}");
        }

        var lagP99 = await prometheus.WaitForAsync("""histogram_quantile(0.99, sum by (le) (rate(reliability_projection_lag_seconds_bucket[1m])))""", v => !double.IsNaN(v), Patience, token);
        var checkP99 = await prometheus.WaitForAsync("""histogram_quantile(0.99, sum by (le) (rate(reliability_ratelimit_check_duration_seconds_bucket{interface="http"}[1m])))""", v => !double.IsNaN(v), Patience, token);
        var orleans = await prometheus.WaitForAsync("""count(count by (instance) (up{job="reliability"} == 1))""", v => v >= 2, Patience, token);
        output.WriteLine($"denied {denied}, allowed {allowed}, sagas started {started}, completed {completed}, other ends {notCompleted}, step attempts {steps}, events applied {applied}, lag p99 {lagP99} s, http check p99 {checkP99} s, targets up {orleans}");

        Assert.Equal(2, orleans);
        Assert.Equal(3, denied);
        Assert.Equal(2, allowed);
        Assert.Equal(3, started);
        Assert.Equal(2, completed);
        Assert.Equal(4, await prometheus.WaitForAsync("""sum(reliability_sagas_started_total{workflow="transfer"})""", v => v >= 4, Patience, token));
        Assert.Equal(4, await prometheus.WaitForAsync("""sum(reliability_ratelimit_decisions_total{policy="prom-tight",outcome="allowed"})""", v => v >= 4, Patience, token));
        Assert.Equal(1, notCompleted);
        Assert.True(steps >= 4, $"step attempts: {steps}");
        Assert.True(applied > 0, $"events applied: {applied}");
        Assert.True(lagP99 is > 0 and < 30, $"projection lag p99: {lagP99}");
        Assert.True(checkP99 is > 0 and < 1, $"check p99: {checkP99}");
        foreach (var client in http)
        {
            client.Dispose();
        }
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string path, string json, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Api-Key", "prometheus-test");
        if (idempotencyKey is not null)
        {
            request.Headers.Add(IdempotencyGuard.HeaderName, idempotencyKey);
        }

        return await http.SendAsync(request);
    }

    private static async Task SendAsync(HttpClient http, HttpMethod method, string path, string json, params HttpStatusCode[] expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        Assert.True(expected.Contains(response.StatusCode), $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
