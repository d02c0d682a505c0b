using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Reliability.Client.Gateway;
using Reliability.Infrastructure;
using Reliability.Silo.Http.Gateway;
using Reliability.Silo.Http.Idempotency;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Idempotency;

/// <summary>The gateway in front of a real upstream process (<c>Client upstream</c>), through the three in-process silos.</summary>
[Collection(SiloHostCollection.Name)]
public sealed class GatewayTests(SiloHostFixture silo) : IAsyncLifetime
{
    private readonly string _apiKey = $"gateway-{Guid.NewGuid():N}";

    public Task InitializeAsync() => ControlAsync(new UpstreamControl());

    public Task DisposeAsync() => ControlAsync(new UpstreamControl());

    [Fact]
    public async Task FirstPost_IsForwardedOnceWithItsKey_AndItsRetryIsAReplayWithTheKeptHeaders()
    {
        var key = NewKey();

        using var first = await SendAsync(0, "/shop/orders", key);
        using var retry = await SendAsync(1, "/shop/orders", key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains(IdempotencyGuard.ReplayedHeader));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues(IdempotencyGuard.ReplayedHeader).Single());
        Assert.Equal("201", retry.Headers.GetValues(IdempotencyGuard.OriginalStatusHeader).Single());
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(first.Headers.ETag, retry.Headers.ETag);
        Assert.Equal("application/json", retry.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());
        Assert.Equal(1, await AppliedAsync(key));
    }

    [Fact]
    public async Task HundredParallelDuplicatesSpreadOverThreeSilos_ReachTheUpstreamOnce_AndAllGetItsAnswer()
    {
        await ControlAsync(new UpstreamControl(DelayMs: 500));
        var key = NewKey();

        var responses = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            using var response = await SendAsync(i, "/shop/orders", key, prefer: "wait=30");
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.Equal(1, await AppliedAsync(key));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(99, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Single(responses.Select(r => r.Body).Distinct());
    }

    [Fact]
    public async Task UpstreamSlowerThanTheLease_IsNotCalledTwice_ADuplicateMeanwhileGets409()
    {
        await ControlAsync(new UpstreamControl(DelayMs: (int)(SiloHostFixture.Lease * 2).TotalMilliseconds));
        var key = NewKey();

        var first = SendAsync(0, "/shop/orders", key);
        await Task.Delay(SiloHostFixture.Lease * 1.5);
        using var during = await SendAsync(1, "/shop/orders", key);
        using var answered = await first;
        using var after = await SendAsync(2, "/shop/orders", key);

        Assert.Equal(HttpStatusCode.Conflict, during.StatusCode);
        Assert.True(during.Headers.RetryAfter is not null);
        Assert.Equal(HttpStatusCode.Created, answered.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(1, await AppliedAsync(key));
    }

    [Fact]
    public async Task MissingKey_Is400OnAStrictRoute_AndPassesThroughOnALenientOne()
    {
        var before = await TotalAsync();

        using var strict = await SendAsync(0, "/shop/orders", key: null);
        using var lenient = await SendAsync(0, "/lenient/orders", key: null);

        Assert.Equal(HttpStatusCode.BadRequest, strict.StatusCode);
        Assert.Contains("Idempotency-Key", await strict.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Created, lenient.StatusCode);
        Assert.Equal(before + 1, await TotalAsync());
    }

    [Fact]
    public async Task AnUnkeyedMethod_PassesStraightThrough()
    {
        using var response = await silo.Silos[0].GetAsync("/shop/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains(IdempotencyGuard.ReplayedHeader));
    }

    [Fact]
    public async Task TheSameKeyWithAnotherBody_Is422_AndNotForwarded()
    {
        var key = NewKey();
        using var first = await SendAsync(0, "/shop/orders", key, body: """{"item":"a"}""");
        using var other = await SendAsync(1, "/shop/orders", key, body: """{"item":"b"}""");
        using var otherQuery = await SendAsync(2, "/shop/orders?express=true", key, body: """{"item":"a"}""");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherQuery.StatusCode);
        Assert.Equal(1, await AppliedAsync(key));
    }

    [Fact]
    public async Task AnUpstream5xx_IsPassedThroughAndNotStored_SoTheRetryIsForwarded()
    {
        var key = NewKey();
        await ControlAsync(new UpstreamControl(FailStatus: 500));
        using var failed = await SendAsync(0, "/shop/orders", key);
        await ControlAsync(new UpstreamControl());
        using var retried = await SendAsync(1, "/shop/orders", key);

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.False(retried.Headers.Contains(IdempotencyGuard.ReplayedHeader));
        Assert.Equal(1, await AppliedAsync(key));
    }

    [Fact]
    public async Task AnUpstream4xx_IsStoredOnlyWhereTheRouteSaysSo()
    {
        var strictKey = NewKey();
        var lenientKey = NewKey();
        await ControlAsync(new UpstreamControl(FailStatus: 400));
        using var strictFailed = await SendAsync(0, "/shop/orders", strictKey);
        using var lenientFailed = await SendAsync(0, "/lenient/orders", lenientKey);
        await ControlAsync(new UpstreamControl());
        using var strictRetry = await SendAsync(1, "/shop/orders", strictKey);
        using var lenientRetry = await SendAsync(1, "/lenient/orders", lenientKey);

        Assert.Equal(HttpStatusCode.BadRequest, strictFailed.StatusCode);
        Assert.Equal(HttpStatusCode.Created, strictRetry.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, lenientFailed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, lenientRetry.StatusCode);
        Assert.Equal("true", lenientRetry.Headers.GetValues(IdempotencyGuard.ReplayedHeader).Single());
        Assert.Equal(0, await AppliedAsync(lenientKey));
    }

    [Fact]
    public async Task AnUnreachableUpstream_Is502_AndLeavesTheKeyFree()
    {
        var key = NewKey();

        using var first = await SendAsync(0, "/dead/orders", key);
        using var second = await SendAsync(1, "/dead/orders", key);

        Assert.Equal(HttpStatusCode.BadGateway, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, second.StatusCode);
        Assert.False(second.Headers.Contains(IdempotencyGuard.ReplayedHeader));
    }

    [Fact]
    public async Task AnAnswerLargerThanTheGatewayKeeps_ReachesTheFirstCallerWhole_AndReplaysWithoutItsBody()
    {
        var key = NewKey();
        await ControlAsync(new UpstreamControl(PadBytes: 2 * 1024 * 1024));

        using var first = await SendAsync(0, "/shop/orders", key);
        using var replay = await SendAsync(1, "/shop/orders", key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var body = await first.Content.ReadAsStringAsync();
        Assert.True(body.Length > 2 * 1024 * 1024);
        Assert.Equal(key, JsonDocument.Parse(body).RootElement.GetProperty("idempotencyKey").GetString());
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues(IdempotencyGuard.BodyOmittedHeader).Single());
        Assert.Equal(first.Headers.Location, replay.Headers.Location);
        Assert.Empty(await replay.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, await AppliedAsync(key));
    }

    /// <summary>Found by the fuzz run: a non-ASCII header made the forward fail to be built, a 502 for the client's mistake.</summary>
    [Fact]
    public async Task AHeaderThatCannotBeForwarded_Is400NamingIt_AndReachesNoUpstream()
    {
        using var utf8 = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 }) { BaseAddress = silo.Silos[0].BaseAddress };
        var key = NewKey();
        using var request = silo.Request(HttpMethod.Post, "/shop/orders", """{"item":"book"}""", apiKey: _apiKey);
        request.Headers.Add(IdempotencyGuard.HeaderName, key);
        request.Headers.Add("X-Customer", "Zoë");

        using var response = await utf8.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("X-Customer", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await AppliedAsync(key));
    }

    [Fact]
    public async Task TheRouteList_IsServedToTheAdmin_AndRefusedToOthers()
    {
        using var anonymous = await silo.Http.GetAsync("/api/admin/gateway/routes");
        using var admin = await silo.Http.SendAsync(silo.Request(HttpMethod.Get, "/api/admin/gateway/routes", admin: true));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var routes = (await admin.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("routes").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Equal(["dead", "lenient", "shop"], routes);
    }

    [Theory]
    [InlineData("PathPrefix=/api/orders", "Gateway:Routes:r:PathPrefix")]
    [InlineData("PathPrefix=/health", "Gateway:Routes:r:PathPrefix")]
    [InlineData("PathPrefix=/", "Gateway:Routes:r:PathPrefix")]
    [InlineData("PathPrefix=/x/{id}", "Gateway:Routes:r:PathPrefix")]
    [InlineData("Upstreams=ftp://x", "Gateway:Routes:r:Upstreams")]
    [InlineData("Upstreams=", "Gateway:Routes:r:Upstreams")]
    [InlineData("LoadBalancing=Fastest", "Gateway:Routes:r:LoadBalancing")]
    [InlineData("KeyedMethods=PO ST", "Gateway:Routes:r:KeyedMethods")]
    public void ABadRoute_IsRefusedAtStart_NamingTheSetting(string setting, string named)
    {
        var (field, value) = (setting.Split('=')[0], setting.Split('=', 2)[1]);
        var route = new GatewayRoute { PathPrefix = "/orders", Upstreams = ["http://127.0.0.1:1"] };
        switch (field)
        {
            case "PathPrefix": route.PathPrefix = value; break;
            case "Upstreams": route.Upstreams = value.Length == 0 ? [] : [value]; break;
            case "LoadBalancing": route.LoadBalancing = value; break;
            case "KeyedMethods": route.KeyedMethods = [value]; break;
        }

        var options = new GatewayOptions { Routes = { ["r"] = route } };

        var error = Assert.Throws<StartupException>(options.Validate);
        Assert.Contains(named, error.Message);
    }

    private static string NewKey() => $"gw-{Guid.NewGuid():N}";

    private async Task<HttpResponseMessage> SendAsync(int siloIndex, string path, string? key, string body = """{"item":"book"}""", string? prefer = null)
    {
        var request = silo.Request(HttpMethod.Post, path, body, apiKey: _apiKey);
        if (key is not null)
        {
            request.Headers.Add(IdempotencyGuard.HeaderName, key);
        }

        if (prefer is not null)
        {
            request.Headers.Add("Prefer", prefer);
        }

        return await silo.Silos[siloIndex % silo.Silos.Count].SendAsync(request);
    }

    private Task ControlAsync(UpstreamControl control) => silo.UpstreamClient.ControlAsync(control);

    private Task<int> AppliedAsync(string key) => silo.UpstreamClient.AppliedAsync(key);

    private Task<long> TotalAsync() => silo.UpstreamClient.TotalAsync();
}
