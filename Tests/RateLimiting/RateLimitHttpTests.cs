using System.Net;
using System.Text.Json;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.RateLimiting;

[Collection(SiloHostCollection.Name)]
public sealed class RateLimitHttpTests(SiloHostFixture silo)
{
    private async Task<string> CreatePolicyAsync(string json)
    {
        var name = $"h{Guid.NewGuid():N}"[..16];
        using var response = await silo.Http.SendAsync(silo.Request(HttpMethod.Put, $"/api/admin/ratelimit/policies/{name}", json, admin: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return name;
    }

    private async Task<(HttpResponseMessage Response, JsonElement Body)> CheckAsync(string json, string? apiKey = null)
    {
        var response = await silo.Http.SendAsync(silo.Request(HttpMethod.Post, "/api/ratelimit/check", json, apiKey: apiKey));
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement);
    }

    [Fact]
    public async Task Check_Allowed_Answers200_WithTheDecisionAndRateLimitHeaders()
    {
        var policy = await CreatePolicyAsync("""{"algorithm":"fixed-window","limit":5,"period":"1m"}""");

        var (response, body) = await CheckAsync($$"""{"subject":"alice","policy":"{{policy}}","cost":2}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(body.GetProperty("allowed").GetBoolean());
        Assert.Equal(3, body.GetProperty("remaining").GetInt64());
        Assert.Equal($"\"{policy}\";q=5;w=60", response.Headers.GetValues("RateLimit-Policy").Single());
        Assert.StartsWith($"\"{policy}\";r=3;t=", response.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task Check_Denied_Answers429_WithRetryAfter_HeadersAndAProblemBody()
    {
        var policy = await CreatePolicyAsync("""{"algorithm":"token-bucket","limit":2,"period":"1m","rate":1}""");
        await CheckAsync($$"""{"subject":"bob","policy":"{{policy}}","cost":2}""");

        var (response, body) = await CheckAsync($$"""{"subject":"bob","policy":"{{policy}}"}""");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var retryAfter = int.Parse(response.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal(429, body.GetProperty("status").GetInt32());
        Assert.Equal("urn:reliability:problem:rate-limited", body.GetProperty("type").GetString());
        Assert.Equal(policy, body.GetProperty("policy").GetString());
        Assert.InRange(body.GetProperty("retryAfterMs").GetInt64(), 1, 60_000);
        Assert.StartsWith($"\"{policy}\";r=0;t=", response.Headers.GetValues("RateLimit").Single());
    }

    [Theory]
    [InlineData("""{"subject":"","policy":"api"}""", "subject")]
    [InlineData("""{"policy":"api"}""", "subject")]
    [InlineData("""{"subject":"x","policy":"api","cost":-1}""", "cost")]
    [InlineData("""{"subject":"x","policy":"api","cost":"one"}""", "cost")]
    [InlineData("""{"subject":"x","policy":"api","cost":1.5}""", "cost")]
    [InlineData("""{"subject":"x"}""", "policies")]
    [InlineData("""{"subject":"x","policy":"api","extra":true}""", "extra")]
    [InlineData("""{"subject":"x","policy":""", "malformed")]
    public async Task Check_WithBadInput_Answers400_NamingTheField(string json, string field)
    {
        var (response, body) = await CheckAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Check_WithASubjectOver256Characters_Answers400()
    {
        var (response, body) = await CheckAsync($$"""{"subject":"{{new string('s', 257)}}","policy":"http-api"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("subject", body.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Check_WithCostAboveTheCapacity_Answers400NamingCost()
    {
        var policy = await CreatePolicyAsync("""{"algorithm":"sliding-window-log","limit":3,"period":"10s"}""");

        var (response, body) = await CheckAsync($$"""{"subject":"carol","policy":"{{policy}}","cost":4}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("cost", body.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Check_NamingAPolicyTwice_Answers400NamingPolicies_AndSpendsNothing()
    {
        var policy = await CreatePolicyAsync("""{"algorithm":"fixed-window","limit":2,"period":"1m"}""");

        var (twice, body) = await CheckAsync($$"""{"subject":"gina","policies":["{{policy}}","{{policy}}"]}""");
        var (single, after) = await CheckAsync($$"""{"subject":"gina","policy":"{{policy}}"}""");

        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.Equal("policies", body.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.OK, single.StatusCode);
        Assert.Equal(1, after.GetProperty("remaining").GetInt64());
    }

    [Fact]
    public async Task Check_OfAnUnknownPolicy_Answers404()
    {
        var (response, body) = await CheckAsync("""{"subject":"dave","policy":"never-created"}""");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("never-created", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Check_WithoutJsonContentType_Answers415()
    {
        using var request = silo.Request(HttpMethod.Post, "/api/ratelimit/check");
        request.Content = new StringContent("subject=x");

        using var response = await silo.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task AdminPolicies_WithoutToken401_WrongToken403_WithToken200()
    {
        const string json = """{"algorithm":"fixed-window","limit":1,"period":"1s"}""";
        using var anonymous = silo.Request(HttpMethod.Put, "/api/admin/ratelimit/policies/anon", json);
        using var wrong = silo.Request(HttpMethod.Put, "/api/admin/ratelimit/policies/anon", json);
        wrong.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "guess");

        using var unauthorized = await silo.Http.SendAsync(anonymous);
        using var forbidden = await silo.Http.SendAsync(wrong);
        using var list = await silo.Http.SendAsync(silo.Request(HttpMethod.Get, "/api/admin/ratelimit/policies", admin: true));

        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal("Bearer", unauthorized.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains("\"http-api\"", await list.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AdminPut_HalfValidUpdate_ChangesNothing_AndNamesEveryBadField()
    {
        var policy = await CreatePolicyAsync("""{"algorithm":"fixed-window","limit":5,"period":"1m"}""");

        using var rejected = await silo.Http.SendAsync(silo.Request(HttpMethod.Put, $"/api/admin/ratelimit/policies/{policy}",
            """{"algorithm":"fixed-window","limit":50,"period":"NaN"}""", admin: true));
        var (_, body) = await CheckAsync($$"""{"subject":"erin","policy":"{{policy}}","cost":0}""");

        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Contains("period", await rejected.Content.ReadAsStringAsync());
        Assert.Equal(5, body.GetProperty("limit").GetInt64());
    }

    [Fact]
    public async Task AdminDelete_RemovesThePolicy_ThenChecksAnswer404()
    {
        var policy = await CreatePolicyAsync("""{"algorithm":"sliding-window-counter","limit":5,"period":"1m"}""");

        using var deleted = await silo.Http.SendAsync(silo.Request(HttpMethod.Delete, $"/api/admin/ratelimit/policies/{policy}", admin: true));
        using var again = await silo.Http.SendAsync(silo.Request(HttpMethod.Delete, $"/api/admin/ratelimit/policies/{policy}", admin: true));
        await Task.Delay(1200);
        var (check, _) = await CheckAsync($$"""{"subject":"frank","policy":"{{policy}}"}""");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, check.StatusCode);
    }

    [Fact]
    public async Task UnknownRoute_Answers404AsAProblem()
    {
        using var response = await silo.Http.SendAsync(silo.Request(HttpMethod.Get, "/api/nothing-here"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

[Collection(SiloHostCollection.Name)]
public sealed class HttpApiRateLimitTests(SiloHostFixture silo)
{
    [Fact]
    public async Task ApiCallers_AreLimitedPerApiKey_ByTheHttpApiPolicy()
    {
        await PutHttpApiPolicyAsync("""{"algorithm":"fixed-window","limit":3,"period":"1m"}""");
        try
        {
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 4; i++)
            {
                using var response = await silo.Http.SendAsync(silo.Request(HttpMethod.Get, "/api/ratelimit/stats", apiKey: "key-one"));
                statuses.Add(response.StatusCode);
            }

            using var otherKey = await silo.Http.SendAsync(silo.Request(HttpMethod.Get, "/api/ratelimit/stats", apiKey: "key-two"));

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
            Assert.Equal(HttpStatusCode.OK, otherKey.StatusCode);
        }
        finally
        {
            await PutHttpApiPolicyAsync("""{"algorithm":"token-bucket","limit":200,"period":"1s","rate":100}""");
        }
    }

    private async Task PutHttpApiPolicyAsync(string json)
    {
        using var response = await silo.Http.SendAsync(silo.Request(HttpMethod.Put, "/api/admin/ratelimit/policies/http-api", json, admin: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Every silo's cache picks the change up within a second.
        await Task.Delay(1100);
    }
}
