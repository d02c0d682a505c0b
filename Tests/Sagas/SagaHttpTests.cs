using System.Net;
using System.Text.Json;
using Reliability.Silo.Http.Idempotency;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Sagas;

[Collection(SiloHostCollection.Name)]
public sealed class SagaHttpTests(SiloHostFixture silo)
{
    private readonly string _alice = $"a{Guid.NewGuid():N}"[..16];
    private readonly string _bob = $"b{Guid.NewGuid():N}"[..16];

    private async Task OpenAsync(string account, decimal balance)
    {
        using var response = await silo.Http.SendAsync(silo.Request(HttpMethod.Put, $"/api/admin/accounts/{account}", $$"""{"balance":{{balance}}}""", admin: true));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private async Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(string path, string json, string? key = "k1")
    {
        var request = silo.Request(HttpMethod.Post, path, json, apiKey: "saga-tests");
        if (key is not null)
        {
            request.Headers.Add(IdempotencyGuard.HeaderName, $"{key}-{_alice}");
        }

        var response = await silo.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, JsonDocument.Parse(text).RootElement);
    }

    [Fact]
    public async Task Transfer_Answers201WithTheCompletedSaga_AndTheSameKeyAgainReplaysIt_WithoutASecondSaga()
    {
        await OpenAsync(_alice, 100m);
        await OpenAsync(_bob, 0m);

        var (first, saga) = await PostAsync("/api/transfers", $$"""{"from":"{{_alice}}","to":"{{_bob}}","amount":12.34}""");
        var (again, replayed) = await PostAsync("/api/transfers", $$"""{"from":"{{_alice}}","to":"{{_bob}}","amount":12.34}""");
        using var view = await silo.Http.GetAsync(first.Headers.Location);
        var balance = JsonDocument.Parse(await silo.Http.GetStringAsync($"/api/accounts/{_alice}")).RootElement.GetProperty("balance").GetDecimal();

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal("Completed", saga.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(saga.GetProperty("sagaId").GetString(), replayed.GetProperty("sagaId").GetString());
        Assert.Equal(HttpStatusCode.OK, view.StatusCode);
        Assert.Equal(87.66m, balance);
    }

    [Theory]
    [InlineData("""{"from":"A","to":"B","amount":0}""", "amount")]
    [InlineData("""{"from":"A","to":"B","amount":-5}""", "amount")]
    [InlineData("""{"from":"A","to":"B","amount":1.005}""", "amount")]
    [InlineData("""{"from":"A","to":"B"}""", "amount")]
    [InlineData("""{"from":"A b","to":"B","amount":1}""", "from")]
    [InlineData("""{"from":"A","to":"B","amount":"ten"}""", "amount")]
    public async Task Transfer_WithBadInput_Answers400NamingTheField_AndStartsNothing(string json, string field)
    {
        var (response, body) = await PostAsync("/api/transfers", json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Transfer_ToTheSameAccountOrAnUnknownOne_Answers422()
    {
        await OpenAsync(_alice, 10m);

        var (same, _) = await PostAsync("/api/transfers", $$"""{"from":"{{_alice}}","to":"{{_alice}}","amount":1}""", "same");
        var (unknown, body) = await PostAsync("/api/transfers", $$"""{"from":"{{_alice}}","to":"nobody-{{_bob}}","amount":1}""", "unknown");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, same.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.StatusCode);
        Assert.Contains("does not exist", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Order_OfAnUnknownSku_Answers422_AndOfAKnownOneCompletes()
    {
        var sku = $"s{Guid.NewGuid():N}"[..12];
        using var restock = await silo.Http.SendAsync(silo.Request(HttpMethod.Post, $"/api/admin/inventory/{sku}/restock", """{"quantity":5,"unitPrice":2.5}""", admin: true));

        var (unknown, _) = await PostAsync("/api/orders", """{"customerId":"c1","items":[{"sku":"no-such-sku","quantity":1}]}""", "o1");
        var (known, saga) = await PostAsync("/api/orders", $$"""{"customerId":"c1","items":[{"sku":"{{sku}}","quantity":2}]}""", "o2");
        var stock = JsonDocument.Parse(await silo.Http.GetStringAsync($"/api/inventory/{sku}")).RootElement;

        Assert.Equal(HttpStatusCode.OK, restock.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Created, known.StatusCode);
        Assert.Equal("Completed", saga.GetProperty("status").GetString());
        Assert.Equal(2, stock.GetProperty("reserved").GetInt32());
    }

    [Fact]
    public async Task Order_WithoutAnIdempotencyKey_Answers400()
    {
        var (response, _) = await PostAsync("/api/orders", """{"customerId":"c1","items":[{"sku":"x","quantity":1}]}""", key: null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Sagas_ListByStatus_AndUnknownSaga404_AndOperatorActionsOnTheWrongStatus409()
    {
        await OpenAsync(_alice, 100m);
        await OpenAsync(_bob, 0m);
        var (_, saga) = await PostAsync("/api/transfers", $$"""{"from":"{{_alice}}","to":"{{_bob}}","amount":1}""", "list");
        var sagaId = saga.GetProperty("sagaId").GetString();

        var completed = JsonDocument.Parse(await silo.Http.GetStringAsync("/api/sagas?status=completed&limit=1000")).RootElement;
        using var badStatus = await silo.Http.GetAsync("/api/sagas?status=sideways");
        using var missing = await silo.Http.GetAsync("/api/sagas/no-such-saga");
        using var retry = await silo.Http.SendAsync(silo.Request(HttpMethod.Post, $"/api/admin/sagas/{sagaId}/retry", admin: true));
        using var cancel = await silo.Http.SendAsync(silo.Request(HttpMethod.Post, $"/api/admin/sagas/{sagaId}/cancel", admin: true));
        using var anonymous = await silo.Http.SendAsync(silo.Request(HttpMethod.Post, $"/api/admin/sagas/{sagaId}/retry"));

        Assert.Contains(completed.GetProperty("sagas").EnumerateArray(), s => s.GetProperty("sagaId").GetString() == sagaId);
        Assert.True(completed.GetProperty("counts").GetProperty("Completed").GetInt64() >= 1);
        Assert.Equal(HttpStatusCode.BadRequest, badStatus.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, retry.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
