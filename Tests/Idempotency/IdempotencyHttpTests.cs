using System.Collections.Immutable;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Reliability.Carts;
using Reliability.Idempotency;
using Reliability.Silo.Http.Idempotency;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Idempotency;

[Collection(SiloHostCollection.Name)]
public sealed class IdempotencyHttpTests(SiloHostFixture silo)
{
    private readonly string _apiKey = $"client-{Guid.NewGuid():N}";
    private readonly string _cart = $"cart{Guid.NewGuid():N}"[..20];

    private HttpRequestMessage AddItem(string? key, string json = """{"sku":"book-1","quantity":1}""", string? prefer = null)
    {
        var request = silo.Request(HttpMethod.Post, $"/api/carts/{_cart}/items", json, apiKey: _apiKey);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyGuard.HeaderName, key);
        }

        if (prefer is not null)
        {
            request.Headers.Add("Prefer", prefer);
        }

        return request;
    }

    private async Task<CartView> CartAsync() =>
        JsonSerializer.Deserialize<CartView>(await silo.Http.GetStringAsync($"/api/carts/{_cart}"), JsonSerializerOptions.Web)!;

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("tab\tinside")]
    public async Task Post_WithoutAValidKey_Answers400_AndAddsNothing(string? key)
    {
        using var response = await silo.Http.SendAsync(AddItem(key));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Idempotency-Key", await response.Content.ReadAsStringAsync());
        Assert.Empty((await CartAsync()).Items);
    }

    [Fact]
    public async Task Post_WithANonAsciiKey_Answers400_AndAddsNothing()
    {
        using var utf8Headers = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { BaseAddress = silo.Http.BaseAddress };

        using var response = await utf8Headers.SendAsync(AddItem("café"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty((await CartAsync()).Items);
    }

    [Fact]
    public async Task Post_WithBracesInTheKey_IsStoredAndReplayedLikeAnyOtherKey()
    {
        using var first = await silo.Http.SendAsync(AddItem("${jndi:ldap://x/a}{0}"));
        using var retry = await silo.Http.SendAsync(AddItem("${jndi:ldap://x/a}{0}"));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Single((await CartAsync()).Items);
    }

    [Fact]
    public async Task Post_WithAKeyOf256Characters_Answers400()
    {
        using var response = await silo.Http.SendAsync(AddItem(new string('k', 256)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task FirstPost_Answers201_EveryRetryAnswers200WithTheSameBodyMarkedReplayed()
    {
        using var first = await silo.Silos[0].SendAsync(AddItem("k1"));
        using var retry = await silo.Silos[1].SendAsync(AddItem("k1"));
        using var again = await silo.Silos[2].SendAsync(AddItem("k1"));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal($"/api/carts/{_cart}", first.Headers.Location?.ToString());
        Assert.False(first.Headers.Contains(IdempotencyGuard.ReplayedHeader));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues(IdempotencyGuard.ReplayedHeader).Single());
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await retry.Content.ReadAsStringAsync());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Single((await CartAsync()).Items);
    }

    [Fact]
    public async Task SameKey_WithADifferentBody_Answers422()
    {
        using var first = await silo.Http.SendAsync(AddItem("k2"));
        using var other = await silo.Http.SendAsync(AddItem("k2", """{"sku":"book-2","quantity":1}"""));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Contains("idempotency-key-reused", await other.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SameKey_FromAnotherApiKey_IsAnotherKey()
    {
        using var mine = await silo.Http.SendAsync(AddItem("shared"));
        var theirs = silo.Request(HttpMethod.Post, $"/api/carts/{_cart}/items", """{"sku":"book-1","quantity":1}""", apiKey: "someone-else");
        theirs.Headers.Add(IdempotencyGuard.HeaderName, "shared");
        using var theirResponse = await silo.Http.SendAsync(theirs);

        Assert.Equal(HttpStatusCode.Created, mine.StatusCode);
        Assert.Equal(HttpStatusCode.Created, theirResponse.StatusCode);
        Assert.Equal(2, (await CartAsync()).Items.Count);
    }

    [Fact]
    public async Task KeyInProgress_Answers409WithRetryAfter()
    {
        var claim = await ClaimAsync("k3");

        using var response = await silo.Http.SendAsync(AddItem("k3"));

        Assert.Equal(IdempotencyOutcomeKind.Started, claim.Outcome.Kind);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.InRange(int.Parse(response.Headers.GetValues("Retry-After").Single()), 1, 30);
        Assert.Empty((await CartAsync()).Items);
    }

    [Fact]
    public async Task PreferWait_OnAKeyInProgress_AnswersTheOriginalsResultWhenItFinishesInTime()
    {
        var claim = await ClaimAsync("k4");
        var waiting = silo.Silos[1].SendAsync(AddItem("k4", prefer: "wait=10"));
        await Task.Delay(300);

        await claim.Grain.Complete(claim.Outcome.LeaseId, new StoredResponse(201, "application/json", [.. "{\"from\":\"original\"}"u8], ImmutableDictionary<string, string>.Empty));
        using var response = await waiting;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"from\":\"original\"}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ValidationFailure_IsNotStored_SoTheSameKeyWorksOnceTheBodyIsFixed()
    {
        using var invalid = await silo.Http.SendAsync(AddItem("k5", """{"sku":"book-1","quantity":0}"""));
        using var fixedBody = await silo.Http.SendAsync(AddItem("k5"));

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("quantity", await invalid.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Created, fixedBody.StatusCode);
    }

    [Fact]
    public async Task FiftyParallelPosts_SpreadOverThreeSilos_AddOneItem_AndWaitingOnesGetTheOriginal()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            silo.Silos[i % silo.Silos.Count].SendAsync(AddItem("k6", prefer: "wait=10"))));
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(49, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Single(bodies.Distinct());
        Assert.Single((await CartAsync()).Items);
    }

    [Fact]
    public async Task FiftyParallelPosts_WithoutWaiting_AddOneItem_OthersAnswer409Or200()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => silo.Silos[i % silo.Silos.Count].SendAsync(AddItem("k7"))));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.Conflict }));
        Assert.Single((await CartAsync()).Items);
    }

    [Fact]
    public async Task Post_WithABodyOverTheLimit_Answers413()
    {
        var huge = $$"""{"sku":"book-1","quantity":1,"note":"{{new string('x', 70_000)}}"}""";

        using var response = await silo.Http.SendAsync(AddItem("k8", huge));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task ClientThatGivesUpDuringTheHandler_ItsRetryGetsTheFullOriginalBody()
    {
        var filter = ActivatorUtilities.CreateInstance<IdempotencyFilter>(silo.Services);
        var key = $"abort-{Guid.NewGuid():N}";
        var answer = new { id = 42, note = new string('x', 20_000) };
        using var disconnect = new CancellationTokenSource();
        var first = FilterContext(key, disconnect.Token);
        var firstResult = await filter.InvokeAsync(EndpointFilterInvocationContext.Create(first), _ =>
        {
            // The client gives up while the handler runs (curl -m, a proxy timeout).
            disconnect.Cancel();
            return ValueTask.FromResult<object?>(Results.Created("/things/42", answer));
        });
        await ((IResult)firstResult!).ExecuteAsync(first);

        var retry = FilterContext(key, CancellationToken.None);
        var retryResult = await filter.InvokeAsync(EndpointFilterInvocationContext.Create(retry), _ => throw new InvalidOperationException("a retry must not run the handler again"));
        await ((IResult)retryResult!).ExecuteAsync(retry);

        Assert.Equal("true", retry.Response.Headers[IdempotencyGuard.ReplayedHeader].ToString());
        Assert.Equal("/things/42", retry.Response.Headers.Location.ToString());
        Assert.Equal(JsonSerializer.Serialize(answer, JsonSerializerOptions.Web), Encoding.UTF8.GetString(((MemoryStream)retry.Response.Body).ToArray()));
    }

    [Fact]
    public async Task HandlerSlowerThanTheLease_KeepsItsClaim_ADuplicateMeanwhileGets409()
    {
        var filter = ActivatorUtilities.CreateInstance<IdempotencyFilter>(silo.Services);
        var key = $"slow-{Guid.NewGuid():N}";
        var slow = filter.InvokeAsync(EndpointFilterInvocationContext.Create(FilterContext(key, CancellationToken.None)), async _ =>
        {
            await Task.Delay(SiloHostFixture.Lease + TimeSpan.FromSeconds(1.5));
            return Results.Created("/things/slow", new { slow = true });
        }).AsTask();
        await Task.Delay(SiloHostFixture.Lease + TimeSpan.FromMilliseconds(500));

        var duplicateRan = false;
        var duplicate = FilterContext(key, CancellationToken.None);
        var answer = await filter.InvokeAsync(EndpointFilterInvocationContext.Create(duplicate), _ =>
        {
            duplicateRan = true;
            return ValueTask.FromResult<object?>(Results.Ok());
        });
        await ((IResult)answer!).ExecuteAsync(duplicate);
        await slow;

        Assert.False(duplicateRan);
        Assert.Equal(StatusCodes.Status409Conflict, duplicate.Response.StatusCode);
    }

    [Fact]
    public async Task StoredAccepted_IsReplayedAs202_MarkedReplayed_NotAs200()
    {
        var claim = await ClaimAsync("k-202");
        var accepted = new StoredResponse(202, "application/json", [.. "{\"status\":\"Running\"}"u8], ImmutableDictionary<string, string>.Empty.Add("Location", "/api/sagas/x"));
        await claim.Grain.Complete(claim.Outcome.LeaseId, accepted);

        using var replay = await silo.Http.SendAsync(AddItem("k-202"));

        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues(IdempotencyGuard.ReplayedHeader).Single());
        Assert.Equal("{\"status\":\"Running\"}", await replay.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task FirstPostAnswered201_IsReplayedAs200_WithTheOriginalStatusInAHeader()
    {
        using var first = await silo.Http.SendAsync(AddItem("k-201"));
        using var replay = await silo.Http.SendAsync(AddItem("k-201"));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("201", replay.Headers.GetValues(IdempotencyGuard.OriginalStatusHeader).Single());
    }

    [Fact]
    public async Task LongestApiKey_WithAKeyOf255Braces_IsStoredAndReplayed_Not503()
    {
        var apiKey = new string('a', 200);
        var key = new string('{', 255);
        HttpRequestMessage Post()
        {
            var request = silo.Request(HttpMethod.Post, $"/api/carts/{_cart}/items", """{"sku":"book-1","quantity":1}""", apiKey: apiKey);
            request.Headers.TryAddWithoutValidation(IdempotencyGuard.HeaderName, key);
            return request;
        }

        using var first = await silo.Http.SendAsync(Post());
        using var retry = await silo.Silos[1].SendAsync(Post());

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Single((await CartAsync()).Items);
    }

    private DefaultHttpContext FilterContext(string key, CancellationToken aborted)
    {
        var http = new DefaultHttpContext { RequestServices = silo.Services, RequestAborted = aborted };
        http.Request.Method = "POST";
        http.Request.Path = "/test/abort";
        http.Request.Headers[IdempotencyGuard.HeaderName] = key;
        http.Request.Headers["X-Api-Key"] = _apiKey;
        http.Request.Body = new MemoryStream("{}"u8.ToArray());
        http.Response.Body = new MemoryStream();
        return http;
    }

    private async Task<(IIdempotencyKeyGrain Grain, IdempotencyOutcome Outcome)> ClaimAsync(string key)
    {
        var grain = ((IGrainFactory)silo.Services.GetService(typeof(IGrainFactory))!).GetIdempotencyKey(IdempotencyKeys.ScopeOf(_apiKey), key);
        var fingerprint = IdempotencyGuard.Fingerprint("POST", $"/api/carts/{_cart}/items", Encoding.UTF8.GetBytes("""{"sku":"book-1","quantity":1}"""));
        return (grain, await grain.Begin(fingerprint));
    }
}
