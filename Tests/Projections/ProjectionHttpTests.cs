using System.Net;
using System.Text.Json;
using Reliability.Silo.Http.Idempotency;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Projections;

[Collection(SiloHostCollection.Name)]
public sealed class ProjectionHttpTests(SiloHostFixture silo)
{
    private readonly string _sku = $"p{Guid.NewGuid():N}"[..14];
    private readonly string _customer = $"c{Guid.NewGuid():N}"[..14];

    private async Task<JsonElement> GetJsonAsync(string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await silo.Http.SendAsync(silo.Request(HttpMethod.Get, path));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private async Task<JsonElement> PlaceOrderAsync(int quantity)
    {
        using (var restock = await silo.Http.SendAsync(silo.Request(HttpMethod.Post, $"/api/admin/inventory/{_sku}/restock", """{"quantity":50,"unitPrice":4}""", admin: true)))
        {
            Assert.Equal(HttpStatusCode.OK, restock.StatusCode);
        }

        var request = silo.Request(HttpMethod.Post, "/api/orders", $$"""{"customerId":"{{_customer}}","items":[{"sku":"{{_sku}}","quantity":{{quantity}}}]}""");
        request.Headers.Add(IdempotencyGuard.HeaderName, $"order-{_customer}");
        using var response = await silo.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Fact]
    public async Task OrderResponse_CarriesTokens_ThatMakeEveryViewQueryIncludeTheOrder()
    {
        var saga = await PlaceOrderAsync(3);
        var orderId = saga.GetProperty("sagaId").GetString()!["order-".Length..];
        var after = string.Join(',', saga.GetProperty("consistency").EnumerateArray().Select(t => t.GetString()));

        var summary = await GetJsonAsync($"/api/orders/{orderId}/summary?after={after}");
        var customer = await GetJsonAsync($"/api/customers/{_customer}/orders?after={after}");
        var totals = await GetJsonAsync($"/api/totals?after={after}&wait=5");

        Assert.Contains("orders:", after);
        Assert.False(summary.GetProperty("stale").GetBoolean());
        Assert.Equal("Confirmed", summary.GetProperty("view").GetProperty("status").GetString());
        Assert.Equal("Charged", summary.GetProperty("view").GetProperty("payment").GetString());
        Assert.Equal(12m, summary.GetProperty("view").GetProperty("total").GetDecimal());
        Assert.Equal("Reserved", summary.GetProperty("view").GetProperty("reservations")[0].GetProperty("state").GetString());
        Assert.False(customer.GetProperty("stale").GetBoolean());
        Assert.Equal(orderId, customer.GetProperty("view").GetProperty("orders")[0].GetProperty("orderId").GetString());
        Assert.True(totals.GetProperty("view").GetProperty("revenue").GetDecimal() >= 12m);
    }

    [Fact]
    public async Task TheBuiltInDescriptors_AnswerTheGenericViewRoute_ByTypedKey()
    {
        var saga = await PlaceOrderAsync(2);
        var orderId = saga.GetProperty("sagaId").GetString()!["order-".Length..];
        var after = string.Join(',', saga.GetProperty("consistency").EnumerateArray().Select(t => t.GetString()));

        var summary = await GetJsonAsync($"/api/views/orders/order:{orderId}?after={after}");
        var customer = await GetJsonAsync($"/api/views/orders/customer:{_customer}?after={after}");
        var totals = await GetJsonAsync($"/api/views/totals/all?after={after}");
        var unknownKind = await GetJsonAsync($"/api/views/orders/nosuch:{orderId}", HttpStatusCode.NotFound);
        var badKey = await GetJsonAsync("/api/views/orders/order:", HttpStatusCode.BadRequest);

        Assert.False(summary.GetProperty("stale").GetBoolean());
        Assert.Equal(8m, summary.GetProperty("state").GetProperty("total").GetDecimal());
        Assert.Equal(orderId, customer.GetProperty("state").GetProperty("orders")[0].GetProperty("orderId").GetString());
        Assert.True(totals.GetProperty("state").GetProperty("revenue").GetDecimal() >= 8m);
        Assert.False(unknownKind.GetProperty("stale").GetBoolean());
        Assert.Equal("key", badKey.GetProperty("field").GetString());
    }

    [Fact]
    public async Task TransferResponse_Tokens_MakeTheStatementIncludeIt()
    {
        var (alice, bob) = ($"sa{Guid.NewGuid():N}"[..14], $"sb{Guid.NewGuid():N}"[..14]);
        foreach (var (account, balance) in new[] { (alice, 50), (bob, 0) })
        {
            using var open = await silo.Http.SendAsync(silo.Request(HttpMethod.Put, $"/api/admin/accounts/{account}", $$"""{"balance":{{balance}}}""", admin: true));
            Assert.Equal(HttpStatusCode.Created, open.StatusCode);
        }

        var request = silo.Request(HttpMethod.Post, "/api/transfers", $$"""{"from":"{{alice}}","to":"{{bob}}","amount":20}""");
        request.Headers.Add(IdempotencyGuard.HeaderName, $"transfer-{alice}");
        using var response = await silo.Http.SendAsync(request);
        var saga = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var after = string.Join(',', saga.GetProperty("consistency").EnumerateArray().Select(t => t.GetString()));

        var statement = await GetJsonAsync($"/api/accounts/{bob}/statement?after={after}");

        Assert.False(statement.GetProperty("stale").GetBoolean());
        Assert.Equal(20m, statement.GetProperty("view").GetProperty("balance").GetDecimal());
    }

    [Fact]
    public async Task AnEventThatNeverHappened_AnswersStale_AndAnUnknownOrder404()
    {
        var stale = await GetJsonAsync("/api/totals?after=orders:999999999&wait=0.2");
        var missing = await GetJsonAsync($"/api/orders/no-such-{_customer}/summary", HttpStatusCode.NotFound);

        Assert.True(stale.GetProperty("stale").GetBoolean());
        Assert.Contains("No order", missing.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("/api/totals?after=bogus", "after")]
    [InlineData("/api/totals?after=sagas:4", "after")]
    [InlineData("/api/totals?after=orders:-1", "after")]
    [InlineData("/api/totals?wait=abc", "wait")]
    [InlineData("/api/totals?wait=31", "wait")]
    [InlineData("/api/totals?wait=-1", "wait")]
    [InlineData("/api/orders/a%20b/summary", "orderId")]
    [InlineData("/api/admin/projections/orders/parked?limit=0", "limit")]
    public async Task BadQueries_Answer400NamingTheField(string path, string field)
    {
        using var response = await silo.Http.SendAsync(silo.Request(HttpMethod.Get, path, admin: true));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Projections_ListsEveryProjection_AndAnUnknownOneIs404()
    {
        var all = await GetJsonAsync("/api/projections");
        await GetJsonAsync("/api/projections/nope", HttpStatusCode.NotFound);

        Assert.Equal(["orders", "statements", "totals"], all.GetProperty("projections").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.All(all.GetProperty("projections").EnumerateArray(), p => Assert.Equal("Live", p.GetProperty("phase").GetString()));
    }

    [Fact]
    public async Task AdminRebuildAndReplay_NeedTheToken()
    {
        using var anonymous = await silo.Http.SendAsync(silo.Request(HttpMethod.Post, "/api/admin/projections/statements/rebuild"));
        var wrong = silo.Request(HttpMethod.Post, "/api/admin/projections/statements/replay-parked");
        wrong.Headers.Authorization = new("Bearer", "wrong");
        using var forbidden = await silo.Http.SendAsync(wrong);
        using var rebuild = await silo.Http.SendAsync(silo.Request(HttpMethod.Post, "/api/admin/projections/statements/rebuild", admin: true));
        using var replay = await silo.Http.SendAsync(silo.Request(HttpMethod.Post, "/api/admin/projections/statements/replay-parked", admin: true));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, rebuild.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(0, JsonDocument.Parse(await replay.Content.ReadAsStringAsync()).RootElement.GetProperty("replayed").GetInt32());
    }
}
