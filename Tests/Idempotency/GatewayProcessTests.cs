using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Reliability.Client.Gateway;
using Reliability.Client.Infrastructure;
using Reliability.Silo.Http.Idempotency;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Idempotency;

/// <summary>The gateway's silo process killed with SIGKILL while it forwards a request.</summary>
public sealed class GatewayProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ForwardingSiloKilledMidRequest_TheRetryIsForwardedOnceMoreWithTheSameKey_WellBeforeTheLeaseExpires()
    {
        var connectionString = await TestDatabase.CreateAsync("gateway-process");
        await using var upstream = await UpstreamProcess.StartAsync();
        using var upstreamClient = new DemoUpstreamClient(upstream.Address);
        var logs = Path.Combine(Path.GetTempPath(), "reliability-test-logs", Guid.NewGuid().ToString("N"));
        await using var cluster = new LocalCluster(RepositoryPaths.SiloAssembly(), connectionString, logs, new Dictionary<string, string>
        {
            ["Logging:Format"] = "simple",
            ["Gateway:Routes:shop:PathPrefix"] = "/shop",
            ["Gateway:Routes:shop:Upstreams:0"] = upstream.Address,
            ["Gateway:Routes:shop:StripPrefix"] = "true",
        });
        var silos = Enumerable.Range(0, 3).Select(i => cluster.Start(LocalCluster.PlanEndpoint(i, preferDefaults: false))).ToList();
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await Task.WhenAll(silos.Select(s => cluster.WaitUntilReadyAsync(s, TimeSpan.FromSeconds(90), startup.Token)));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var key = $"kill-{Guid.NewGuid():N}";
        await upstreamClient.ControlAsync(new UpstreamControl(DelayMs: 20_000));

        var first = http.SendAsync(Post(silos[0], key));
        while (await upstreamClient.AppliedAsync(key) == 0)
        {
            await Task.Delay(20);
        }

        silos[0].Kill();
        var killed = Stopwatch.StartNew();
        await upstreamClient.ControlAsync(new UpstreamControl());
        HttpResponseMessage retry;
        while (true)
        {
            retry = await http.SendAsync(Post(silos[1], key));
            // A client retries on 409 (still claimed) and 503 (the key's silo just died), as Retry-After says.
            if (retry.StatusCode is not (HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable) || killed.Elapsed > TimeSpan.FromSeconds(60))
            {
                break;
            }

            retry.Dispose();
            await Task.Delay(250);
        }

        output.WriteLine($"retry answered {(int)retry.StatusCode} {killed.Elapsed.TotalSeconds:0.0} s after the kill");
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => first);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(2, await upstreamClient.AppliedAsync(key));
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(25), $"the retry waited {killed.Elapsed.TotalSeconds:0.0} s: the dead holder's claim was not taken over before the 30 s lease");
        using var replay = await http.SendAsync(Post(silos[2], key));
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(2, await upstreamClient.AppliedAsync(key));
        retry.Dispose();
    }

    private static HttpRequestMessage Post(SiloProcess silo, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{silo.Endpoint.HttpPort}/shop/orders")
        {
            Content = JsonContent.Create(new { item = "book" }),
        };
        request.Headers.Add(IdempotencyGuard.HeaderName, key);
        return request;
    }
}
