using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Reliability.Silo.Http.Idempotency;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Hostile;

/// <summary>
/// Hostile traffic against every endpoint of three silos: no answer is a 5xx, every silo is still ready
/// afterwards, and the seeded data that no request was allowed to change is unchanged. Reproduce a failure
/// with the seed it prints: <c>HOSTILE_SEED=&lt;seed&gt; dotnet test --filter FullyQualifiedName~Hostile</c>.
/// </summary>
[Collection(SiloHostCollection.Name)]
public sealed class FuzzTests(SiloHostFixture silo, ITestOutputHelper output)
{
    private const int DefaultSeed = 20_260_401;
    private const int RequestCount = 10_500;
    private const int MinimumAnswered = 10_000;
    private const int Concurrency = 16;

    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task HostileRequests_NeverAnswer5xx_NeverCrashASilo_AndChangeNoProtectedData()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("HOSTILE_SEED"), CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;
        var ids = new ProtectedIds($"seedcart{_suffix}", $"seedacct{_suffix}", $"seedsku{_suffix}", $"seed-policy-{_suffix}");
        await SeedAsync(ids);
        var before = await SnapshotAsync(ids);

        var requests = new HostileRequests(seed, SiloHostFixture.AdminToken, ids).Generate(RequestCount);
        // Oversized requests get connections of their own: the server may close a connection whose request
        // it refused unread, and another request queued on that connection would then see no answer.
        var clients = silo.Silos.Select(Client).ToList();
        var oversizedClients = silo.Silos.Select(Client).ToList();

        var statuses = new ConcurrentDictionary<int, int>();
        var failures = new ConcurrentBag<string>();
        var unsendable = 0;
        var answered = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (request, cancellationToken) =>
            {
                using var message = ToMessage(request);
                if (message is null)
                {
                    Interlocked.Increment(ref unsendable);
                    return;
                }

                try
                {
                    using var response = await (request.Oversized ? oversizedClients : clients)[request.Index % clients.Count].SendAsync(message, cancellationToken);
                    var status = (int)response.StatusCode;
                    var text = await response.Content.ReadAsStringAsync(cancellationToken);
                    statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                    Interlocked.Increment(ref answered);
                    if (status >= 500)
                    {
                        failures.Add($"{status} for {request.Describe()}\n    answer: {(text.Length > 400 ? text[..400] : text)}");
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
                {
                    if (!request.Oversized)
                    {
                        failures.Add($"no answer ({ex.GetType().Name}: {ex.GetBaseException().Message}) for {request.Describe()}");
                    }
                }
            });
        }
        finally
        {
            clients.Concat(oversizedClients).ToList().ForEach(c => c.Dispose());
        }

        clock.Stop();
        var summary = $"seed {seed} (rerun with HOSTILE_SEED={seed}): {answered} answered, {unsendable} unsendable in {clock.Elapsed.TotalSeconds:0.0} s; " +
            string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key}×{p.Value}"));
        output.WriteLine(summary);
        foreach (var failure in failures.OrderBy(f => f))
        {
            output.WriteLine(failure);
        }

        Assert.True(failures.IsEmpty, $"{summary}\n{failures.Count} failures, the first 20:\n{string.Join("\n", failures.OrderBy(f => f).Take(20))}");
        Assert.True(answered >= MinimumAnswered, summary);
        Assert.True(statuses.GetValueOrDefault(429) < answered / 10, $"most requests must reach the endpoints, not the API's own limit: {summary}");

        foreach (var (client, i) in silo.Silos.Select((c, i) => (c, i)))
        {
            using var ready = await client.GetAsync("/health/ready");
            Assert.True(ready.StatusCode == HttpStatusCode.OK, $"silo {i} is not ready after the fuzz run; {summary}");
        }

        var after = await SnapshotAsync(ids);
        foreach (var (what, value) in before)
        {
            Assert.True(value == after[what], $"{what} changed during the fuzz run; {summary}\nbefore: {value}\nafter:  {after[what]}");
        }
    }

    private static HttpClient Client(HttpClient silo) => new(new SocketsHttpHandler
    {
        RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
        AllowAutoRedirect = false,
    })
    { BaseAddress = silo.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    private static HttpRequestMessage? ToMessage(HostileRequest request)
    {
        HttpRequestMessage message;
        try
        {
            message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(request.Path, UriKind.Relative));
        }
        catch (Exception ex) when (ex is UriFormatException or FormatException)
        {
            return null;
        }

        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }
        }

        foreach (var (name, value) in request.Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return message;
    }

    private async Task SeedAsync(ProtectedIds ids)
    {
        await SendAsync(HttpMethod.Put, $"/api/admin/ratelimit/policies/{ids.Policy}", """{"algorithm":"fixed-window","limit":5,"period":"1m"}""", HttpStatusCode.OK);
        await SendAsync(HttpMethod.Put, $"/api/admin/accounts/{ids.Account}", """{"balance":1234.56}""", HttpStatusCode.Created);
        await SendAsync(HttpMethod.Post, $"/api/admin/inventory/{ids.Sku}/restock", """{"quantity":17,"unitPrice":9.99}""", HttpStatusCode.OK);
        await SendAsync(HttpMethod.Post, $"/api/carts/{ids.Cart}/items", """{"sku":"seed-book","quantity":2}""", HttpStatusCode.Created, idempotencyKey: $"seed-{ids.Cart}");
    }

    /// <summary>What the server says about each protected entity, as JSON text.</summary>
    private async Task<Dictionary<string, string>> SnapshotAsync(ProtectedIds ids)
    {
        var snapshot = new Dictionary<string, string>
        {
            ["cart"] = await SendAsync(HttpMethod.Get, $"/api/carts/{ids.Cart}", null, HttpStatusCode.OK),
            ["account"] = await SendAsync(HttpMethod.Get, $"/api/accounts/{ids.Account}", null, HttpStatusCode.OK),
            ["inventory"] = await SendAsync(HttpMethod.Get, $"/api/inventory/{ids.Sku}", null, HttpStatusCode.OK),
        };
        using var policies = JsonDocument.Parse(await SendAsync(HttpMethod.Get, "/api/admin/ratelimit/policies/", null, HttpStatusCode.OK));
        foreach (var name in new[] { ids.Policy, "http-api" })
        {
            snapshot[$"policy {name}"] = policies.RootElement.GetProperty("policies").EnumerateArray()
                .Where(p => p.GetProperty("name").GetString() == name).Select(p => p.GetRawText()).SingleOrDefault() ?? "absent";
        }

        return snapshot;
    }

    private async Task<string> SendAsync(HttpMethod method, string path, string? json, HttpStatusCode expected, string? idempotencyKey = null)
    {
        using var request = silo.Request(method, path, json, admin: true);
        if (idempotencyKey is not null)
        {
            request.Headers.Add(IdempotencyGuard.HeaderName, idempotencyKey);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await silo.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text;
    }
}
