using System.Net;
using System.Text;
using System.Text.Json;
using Reliability.Client.Infrastructure;
using Reliability.Projections;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Projections;

/// <summary>A JavaScript projection's new version being built when the silo running its runner is killed with SIGKILL.</summary>
public sealed class ScriptProjectionProcessTests(ITestOutputHelper output)
{
    private const int Events = 6_000;

    [Fact]
    public async Task ASiloKilledDuringAJavaScriptRebuild_TheRebuildFinishesOnAnotherSilo_AndEveryEventIsFoldedOnce()
    {
        var connectionString = await TestDatabase.CreateAsync("js-rebuild-kill");
        var logs = Path.Combine(Path.GetTempPath(), "reliability-test-logs", Guid.NewGuid().ToString("N"));
        await using var cluster = new LocalCluster(RepositoryPaths.SiloAssembly(), connectionString, logs, new Dictionary<string, string>
        {
            ["Logging:Format"] = "simple",
            ["Projections:KeepAlivePeriod"] = "00:00:02",
            // Small rebuild rounds, so the rebuild is still running when its silo is killed.
            ["Projections:RebuildBatch"] = "100",
        });
        var silos = Enumerable.Range(0, 2).Select(i => cluster.Start(LocalCluster.PlanEndpoint(i, preferDefaults: false))).ToList();
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await Task.WhenAll(silos.Select(s => cluster.WaitUntilReadyAsync(s, TimeSpan.FromSeconds(90), startup.Token)));
        await using var connection = await ClusterConnection.ConnectAsync(new ClusterTarget(connectionString, "reliability", "reliability", []), startup.Token);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? json = null)
        {
            foreach (var silo in silos.Where(s => !s.HasExited))
            {
                using var request = new HttpRequestMessage(method, silo.Endpoint.HttpUrl + path);
                request.Headers.Add("X-Api-Key", Guid.NewGuid().ToString("N"));
                if (json is not null)
                {
                    request.Content = new StringContent(json, Encoding.UTF8, "application/json");
                }

                try
                {
                    using var response = await http.SendAsync(request);
                    var text = await response.Content.ReadAsStringAsync();
                    return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
                }
                catch (HttpRequestException)
                {
                    // That silo is the one just killed: ask the other.
                }
            }

            throw new InvalidOperationException("No silo answered.");
        }

        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Put, "/api/admin/stores/meter")).Status);
        for (var first = 0; first < Events; first += 200)
        {
            var events = Enumerable.Range(first, 200).Select(i => new { id = Guid.NewGuid(), type = "Read", data = new { meter = $"m{i % 10}", kwh = i % 7 } });
            var (status, body) = await SendAsync(HttpMethod.Post, $"/api/streams/meter/batch-{first}", JsonSerializer.Serialize(new { expectedVersion = "none", events }));
            Assert.True(status == HttpStatusCode.Created, body.ToString());
        }

        const string Count = "fromStores('meter').partitionBy(e => e.data.meter).when({ Read: (s, e) => { s.reads = (s.reads || 0) + 1; return s; } });";
        const string Sum = "fromStores('meter').partitionBy(e => e.data.meter).when({ Read: (s, e) => { s.reads = (s.reads || 0) + 1; s.kwh = (s.kwh || 0) + e.data.kwh; return s; } });";
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Put, "/api/admin/projections/meters", JsonSerializer.Serialize(new { script = Count }))).Status);
        var runner = connection.Client.GetGrain<IProjectionRunnerGrain>("meters");
        await WaitAsync(async () => (await runner.GetStatus()).Sources.Sum(s => s.EventsBehind) == 0, TimeSpan.FromSeconds(60), "version 1 never caught up");

        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Put, "/api/admin/projections/meters", JsonSerializer.Serialize(new { script = Sum }))).Status);
        ProjectionStatus building = null!;
        await WaitAsync(async () => (building = await runner.GetStatus()) is { RebuildVersion: 2, RebuildApplied: > 0 }, TimeSpan.FromSeconds(30), "version 2's rebuild never started");
        silos.Single(s => s.Endpoint.Name == building.Silo).Kill();
        output.WriteLine($"killed {building.Silo} after {building.RebuildApplied} of {Events} events of the rebuild");
        Assert.True(building.RebuildApplied < Events, "the rebuild finished before the kill: nothing was tested");

        ProjectionStatus done = null!;
        await WaitAsync(async () =>
        {
            try
            {
                return (done = await runner.GetStatus()).LiveVersion == 2;
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(90), "version 2 never went live after the kill");

        var (_, views) = await SendAsync(HttpMethod.Get, "/api/views/meters?limit=100");
        var states = views.GetProperty("views").EnumerateArray().Select(v => v.GetProperty("state")).ToList();
        output.WriteLine($"live on {done.Silo}: generation {done.LiveGeneration}, version {done.LiveVersion}, parked {done.Parked}");
        Assert.NotEqual(building.Silo, done.Silo);
        Assert.Equal(0, done.Parked);
        Assert.Equal(10, states.Count);
        Assert.Equal(Events, states.Sum(s => s.GetProperty("reads").GetInt32()));
        Assert.Equal(Enumerable.Range(0, Events).Sum(i => i % 7), states.Sum(s => s.GetProperty("kwh").GetInt32()));
    }

    private static async Task WaitAsync(Func<Task<bool>> done, TimeSpan patience, string failure)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(20);
        }
    }
}
