using System.Net;
using System.Text;
using System.Text.Json;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Idempotency;

/// <summary>The claims API over HTTP: a service claims, completes, releases and renews keys itself.</summary>
[Collection(SiloHostCollection.Name)]
public sealed class IdempotencyClaimsTests(SiloHostFixture silo)
{
    private const string Route = "/api/idempotency/claims";
    private readonly string _apiKey = $"service-{Guid.NewGuid():N}";
    private readonly string _key = $"pay-{Guid.NewGuid():N}";

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? json = null, int silo0 = 0, string? apiKey = null)
    {
        var response = await silo.Silos[silo0].SendAsync(silo.Request(method, path, json, apiKey: apiKey ?? _apiKey));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement, response);
    }

    private Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> ClaimAsync(string fingerprint = "fp-1", string? lease = null, int silo0 = 0, string? apiKey = null) =>
        SendAsync(HttpMethod.Post, Route, JsonSerializer.Serialize(new { scope = "payments", key = _key, fingerprint, lease }), silo0, apiKey);

    private Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> CompleteAsync(string token, string body = "{\"paid\":true}") =>
        SendAsync(HttpMethod.Put, $"{Route}/payments/{_key}", JsonSerializer.Serialize(new
        {
            token,
            response = new { statusCode = 201, contentType = "application/json", headers = new Dictionary<string, string> { ["Location"] = "/payments/7" }, body = Convert.ToBase64String(Encoding.UTF8.GetBytes(body)) },
        }));

    [Fact]
    public async Task Claim_Complete_ThenEveryClaimGetsTheStoredResponse_FromAnySilo()
    {
        var (claimed, claim, response) = await ClaimAsync();
        var token = claim.GetProperty("token").GetString()!;
        var (held, _, heldResponse) = await ClaimAsync(silo0: 1);
        var (completed, _, _) = await CompleteAsync(token);
        var (replayed, replay, _) = await ClaimAsync(silo0: 2);
        var (other, _, _) = await ClaimAsync(fingerprint: "another request");

        Assert.Equal(HttpStatusCode.Created, claimed);
        Assert.Equal($"{Route}/payments/{_key}", response.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.Conflict, held);
        Assert.True(heldResponse.Headers.RetryAfter is not null);
        Assert.Equal(HttpStatusCode.OK, completed);
        Assert.Equal(HttpStatusCode.OK, replayed);
        Assert.Equal(201, replay.GetProperty("response").GetProperty("statusCode").GetInt32());
        Assert.Equal("/payments/7", replay.GetProperty("response").GetProperty("headers").GetProperty("Location").GetString());
        Assert.Equal("{\"paid\":true}", Encoding.UTF8.GetString(Convert.FromBase64String(replay.GetProperty("response").GetProperty("body").GetString()!)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other);
    }

    [Fact]
    public async Task StaleToken_AfterATakeover_IsRefused_SoAZombieCannotOverwriteTheNewHoldersResult()
    {
        var (_, first, _) = await ClaimAsync(lease: "1s");
        await Task.Delay(TimeSpan.FromMilliseconds(1300));
        var (takenOver, second, _) = await ClaimAsync(lease: "30s", silo0: 1);

        var (zombie, _, _) = await CompleteAsync(first.GetProperty("token").GetString()!, "{\"from\":\"zombie\"}");
        var (holder, _, _) = await CompleteAsync(second.GetProperty("token").GetString()!);
        var (_, replay, _) = await ClaimAsync();

        Assert.Equal(HttpStatusCode.Created, takenOver);
        Assert.True(second.GetProperty("tookOver").GetBoolean());
        Assert.Equal(first.GetProperty("operationId").GetString(), second.GetProperty("operationId").GetString());
        Assert.Equal(HttpStatusCode.Conflict, zombie);
        Assert.Equal(HttpStatusCode.OK, holder);
        Assert.Equal("{\"paid\":true}", Encoding.UTF8.GetString(Convert.FromBase64String(replay.GetProperty("response").GetProperty("body").GetString()!)));
    }

    [Fact]
    public async Task Release_FreesTheKey_AndTheSameRequestRunsTheSameOperationAgain()
    {
        var (_, first, _) = await ClaimAsync();

        var (released, _, _) = await SendAsync(HttpMethod.Delete, $"{Route}/payments/{_key}?token={first.GetProperty("token").GetString()}");
        var (again, second, _) = await ClaimAsync();
        var (staleRelease, _, _) = await SendAsync(HttpMethod.Delete, $"{Route}/payments/{_key}?token={first.GetProperty("token").GetString()}");

        Assert.Equal(HttpStatusCode.NoContent, released);
        Assert.Equal(HttpStatusCode.Created, again);
        Assert.Equal(first.GetProperty("operationId").GetString(), second.GetProperty("operationId").GetString());
        Assert.Equal(HttpStatusCode.Conflict, staleRelease);
    }

    [Fact]
    public async Task Renew_KeepsALongRequestsClaim_PastItsFirstLease()
    {
        var (_, claim, _) = await ClaimAsync(lease: "1s");

        var (renewed, _, _) = await SendAsync(HttpMethod.Post, $"{Route}/payments/{_key}/renew",
            JsonSerializer.Serialize(new { token = claim.GetProperty("token").GetString(), lease = "30s" }));
        await Task.Delay(TimeSpan.FromMilliseconds(1300));
        var (stillHeld, _, _) = await ClaimAsync(silo0: 2);

        Assert.Equal(HttpStatusCode.OK, renewed);
        Assert.Equal(HttpStatusCode.Conflict, stillHeld);
    }

    [Fact]
    public async Task SameScopeAndKey_UnderAnotherApiKey_IsAnotherClaim()
    {
        var (mine, _, _) = await ClaimAsync();
        var (theirs, _, _) = await ClaimAsync(apiKey: $"other-{Guid.NewGuid():N}");

        Assert.Equal(HttpStatusCode.Created, mine);
        Assert.Equal(HttpStatusCode.Created, theirs);
    }

    [Theory]
    [InlineData("""{"scope":"payments","fingerprint":"f"}""", "key")]
    [InlineData("""{"scope":"pay ments","key":"k","fingerprint":"f"}""", "scope")]
    [InlineData("""{"scope":"payments","key":"a/b","fingerprint":"f"}""", "key")]
    [InlineData("""{"scope":"payments","key":"k"}""", "fingerprint")]
    [InlineData("""{"scope":"payments","key":"k","fingerprint":"f","lease":"0s"}""", "lease")]
    [InlineData("""{"scope":"payments","key":"k","fingerprint":"f","extra":1}""", "extra")]
    public async Task BadClaims_Answer400_NamingTheField(string json, string field)
    {
        var (status, body, _) = await SendAsync(HttpMethod.Post, Route, json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(field, body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Complete_WithAMalformedTokenOrResponse_Answers400()
    {
        await ClaimAsync();

        var (badToken, tokenBody, _) = await SendAsync(HttpMethod.Put, $"{Route}/payments/{_key}", """{"token":"nope","response":{"statusCode":200}}""");
        var (badStatus, statusBody, _) = await SendAsync(HttpMethod.Put, $"{Route}/payments/{_key}",
            $$$"""{"token":"{{{Guid.NewGuid():N}}}","response":{"statusCode":700}}""");

        Assert.Equal(HttpStatusCode.BadRequest, badToken);
        Assert.Equal("token", tokenBody.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Equal("response.statusCode", statusBody.GetProperty("field").GetString());
    }
}
