using System.Net;
using System.Text.Json;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.Projections;

/// <summary>
/// A service that is not ours, over HTTP on three real silos: it gets a store, appends its events, and
/// a JavaScript view over them answers with read-your-writes, takes new versions side by side, and
/// survives hostile scripts.
/// </summary>
[Collection(SiloHostCollection.Name)]
public sealed class OpenProjectionHttpTests(SiloHostFixture silo)
{
    private readonly string _store = $"s{Guid.NewGuid():N}"[..20];
    private readonly string _projection = $"p{Guid.NewGuid():N}"[..20];

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? json = null, bool admin = false, int silo_ = 0)
    {
        using var request = silo.Request(method, path, json, admin);
        using var response = await silo.Silos[silo_].SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement);
    }

    private async Task MakeStoreAsync()
    {
        var (status, _) = await SendAsync(HttpMethod.Put, $"/api/admin/stores/{_store}", admin: true);
        Assert.Equal(HttpStatusCode.Created, status);
    }

    private static string Append(object expectedVersion, params (Guid Id, string Type, string Data)[] events) =>
        $$"""{"expectedVersion":{{JsonSerializer.Serialize(expectedVersion)}},"events":[{{string.Join(",", events.Select(e => $$"""{"id":"{{e.Id}}","type":"{{e.Type}}","data":{{e.Data}}}"""))}}]}""";

    private async Task<string> PutScriptAsync(string script, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var (status, body) = await SendAsync(HttpMethod.Put, $"/api/admin/projections/{_projection}", JsonSerializer.Serialize(new { script }), admin: true);
        Assert.True(status == expected, $"PUT answered {(int)status}: {body}");
        return body.ToString();
    }

    private async Task<JsonElement> ViewAsync(string key, string? after = null, int silo_ = 0)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, $"/api/views/{_projection}/{key}" + (after is null ? "" : $"?after={after}&wait=10"), silo_: silo_);
        Assert.True(status == HttpStatusCode.OK, $"GET view answered {(int)status}: {body}");
        return body;
    }

    private async Task<JsonElement> WaitForStatusAsync(Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var (_, status) = await SendAsync(HttpMethod.Get, $"/api/projections/{_projection}");
            if (done(status) || DateTime.UtcNow > deadline)
            {
                return status;
            }

            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Stores_AreMadeByAnAdmin_Once_AndOnlyOpenStoresTakeAppends()
    {
        var (first, _) = await SendAsync(HttpMethod.Put, $"/api/admin/stores/{_store}", admin: true);
        var (again, _) = await SendAsync(HttpMethod.Put, $"/api/admin/stores/{_store}", admin: true, silo_: 1);
        var (anonymous, _) = await SendAsync(HttpMethod.Put, $"/api/admin/stores/x{_store}");
        var (badName, badBody) = await SendAsync(HttpMethod.Put, "/api/admin/stores/Bad-Name", admin: true);
        var (reserved, _) = await SendAsync(HttpMethod.Put, "/api/admin/stores/sagas", admin: true);
        var (builtIn, builtInBody) = await SendAsync(HttpMethod.Post, "/api/streams/orders/order-1", Append("any", (Guid.NewGuid(), "X", "{}")));
        var (unknown, _) = await SendAsync(HttpMethod.Post, $"/api/streams/nosuch{_store}/s-1", Append("any", (Guid.NewGuid(), "X", "{}")));
        var (listed, list) = await SendAsync(HttpMethod.Get, "/api/stores", silo_: 2);

        Assert.Equal(HttpStatusCode.Created, first);
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.True(anonymous is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"without the admin token: {anonymous}");
        Assert.Equal(HttpStatusCode.BadRequest, badName);
        Assert.Equal("store", badBody.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, reserved);
        Assert.Equal(HttpStatusCode.Forbidden, builtIn);
        Assert.Contains("belongs to the built-in", builtInBody.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Contains(list.GetProperty("stores").EnumerateArray(), s => s.GetProperty("name").GetString() == _store);
    }

    [Fact]
    public async Task ARetriedAppend_WithTheSameEventIds_IsAppliedOnce_AndAnsweredWithTheFirstOutcome()
    {
        await MakeStoreAsync();
        var body = Append("none", (Guid.NewGuid(), "Placed", """{"n":1}"""), (Guid.NewGuid(), "Paid", """{"n":2}"""));

        var (first, firstBody) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/order-1", body);
        var (retry, retryBody) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/order-1", body, silo_: 1);
        var (read, stream) = await SendAsync(HttpMethod.Get, $"/api/streams/{_store}/order-1", silo_: 2);

        Assert.Equal(HttpStatusCode.Created, first);
        Assert.Equal(HttpStatusCode.OK, retry);
        Assert.True(retryBody.GetProperty("replayed").GetBoolean());
        Assert.Equal(2, firstBody.GetProperty("version").GetInt32());
        Assert.Equal(firstBody.GetProperty("token").GetString(), retryBody.GetProperty("token").GetString());
        Assert.StartsWith($"{_store}:", firstBody.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, read);
        Assert.Equal("Placed,Paid", string.Join(",", stream.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString())));
        Assert.Equal(2, stream.GetProperty("events")[1].GetProperty("data").GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task ConcurrentAppends_AtTheSameExpectedVersion_OnDifferentSilos_OneWins_TheOthersGet409WithTheCurrentVersion()
    {
        await MakeStoreAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 9).Select(i =>
            SendAsync(HttpMethod.Post, $"/api/streams/{_store}/race", Append(0, (Guid.NewGuid(), "Took", $$"""{"by":{{i}}}""")), silo_: i % 3)));
        var (_, stream) = await SendAsync(HttpMethod.Get, $"/api/streams/{_store}/race");

        Assert.Single(answers, a => a.Status == HttpStatusCode.Created);
        var conflicts = answers.Where(a => a.Status == HttpStatusCode.Conflict).ToList();
        Assert.Equal(8, conflicts.Count);
        Assert.All(conflicts, c => Assert.Equal(1, c.Body.GetProperty("currentVersion").GetInt32()));
        Assert.Single(stream.GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task AnAppendAtAVersionAheadOfTheStream_Answers409_AndLeavesNoGap()
    {
        await MakeStoreAsync();
        await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/ahead", Append("none", (Guid.NewGuid(), "A", "{}")));

        var (status, body) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/ahead", Append(5, (Guid.NewGuid(), "A", "{}")));
        var (next, nextBody) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/ahead", Append(1, (Guid.NewGuid(), "B", "{}")));
        var (_, stream) = await SendAsync(HttpMethod.Get, $"/api/streams/{_store}/ahead");

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(1, body.GetProperty("currentVersion").GetInt32());
        Assert.Equal(HttpStatusCode.Created, next);
        Assert.Equal(2, nextBody.GetProperty("version").GetInt32());
        Assert.Equal("1,2", string.Join(",", stream.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("version").GetInt32())));
    }

    [Theory]
    [InlineData("""{"events":[{"id":"not-a-uuid","type":"A","data":{}}]}""", "events[0].id")]
    [InlineData("""{"events":[{"id":"6f1c9a3e-2b4d-4e8f-9a7b-1c2d3e4f5a6b","type":"9lives","data":{}}]}""", "events[0].type")]
    [InlineData("""{"events":[{"id":"6f1c9a3e-2b4d-4e8f-9a7b-1c2d3e4f5a6b","type":"A"}]}""", "events[0].data")]
    [InlineData("""{"events":[]}""", "events")]
    [InlineData("""{"expectedVersion":"soon","events":[{"id":"6f1c9a3e-2b4d-4e8f-9a7b-1c2d3e4f5a6b","type":"A","data":{}}]}""", "expectedVersion")]
    [InlineData("""{"events":[{"id":"6f1c9a3e-2b4d-4e8f-9a7b-1c2d3e4f5a6b","type":"A","data":{},"extra":1}]}""", "events[0].extra")]
    public async Task AMalformedAppend_Answers400NamingTheField_AndAppendsNothing(string json, string field)
    {
        await MakeStoreAsync();

        var (status, body) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/bad", json);
        var (_, stream) = await SendAsync(HttpMethod.Get, $"/api/streams/{_store}/bad");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(field, body.ToString());
        Assert.Empty(stream.GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task AnAppendOverTheLimits_Answers413()
    {
        await MakeStoreAsync();
        var many = Append("any", [.. Enumerable.Range(0, 501).Select(_ => (Guid.NewGuid(), "A", "{}"))]);
        var huge = Append("any", (Guid.NewGuid(), "A", $$"""{"x":"{{new string('x', 70 * 1024)}}"}"""));

        var (tooMany, _) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/big", many);
        var (tooBig, _) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/big", huge);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig);
    }

    [Fact]
    public async Task AJavaScriptView_OverAnOpenStore_AnswersWithReadYourWrites_OnAnySilo()
    {
        await MakeStoreAsync();
        await PutScriptAsync($$"""
            fromStores(['{{_store}}'])
              .partitionBy(e => e.data.customer)
              .when({
                $init: () => ({ orders: 0, total: 0 }),
                Placed: (s, e) => { s.orders++; s.total += e.data.amount; return s; },
              });
            """);

        string token = "";
        for (var i = 1; i <= 5; i++)
        {
            var (status, appended) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/order-{i}",
                Append("none", (Guid.NewGuid(), "Placed", $$"""{"customer":"c{{i % 2}}","amount":{{i * 10}}}""")), silo_: i % 3);
            Assert.Equal(HttpStatusCode.Created, status);
            token = appended.GetProperty("token").GetString()!;
        }

        var odd = await ViewAsync("c1", token, silo_: 2);
        var even = await ViewAsync("c0", token, silo_: 1);
        var (listed, list) = await SendAsync(HttpMethod.Get, $"/api/views/{_projection}?prefix=c&limit=10");
        var (missing, _) = await SendAsync(HttpMethod.Get, $"/api/views/{_projection}/nobody");

        Assert.False(odd.GetProperty("stale").GetBoolean());
        Assert.Equal(3, odd.GetProperty("state").GetProperty("orders").GetInt32());
        Assert.Equal(90, odd.GetProperty("state").GetProperty("total").GetInt32());
        Assert.Equal(60, even.GetProperty("state").GetProperty("total").GetInt32());
        Assert.Equal(1, odd.GetProperty("version").GetInt32());
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Equal("c0,c1", string.Join(",", list.GetProperty("views").EnumerateArray().Select(v => v.GetProperty("key").GetString())));
        Assert.Equal(HttpStatusCode.NotFound, missing);
    }

    [Fact]
    public async Task ANewVersion_IsBuiltBesideTheLiveOne_AndCutOver_WithoutAStaleRead_AndABrokenOneIsHeldBack()
    {
        await MakeStoreAsync();
        await PutScriptAsync($$"""fromStores('{{_store}}').when({ Tick: (s, e) => { s.count = (s.count || 0) + 1; return s; } });""");
        string token = "";
        for (var i = 0; i < 20; i++)
        {
            var (_, appended) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/t-{i}", Append("any", (Guid.NewGuid(), "Tick", $$"""{"n":{{i}}}""")));
            token = appended.GetProperty("token").GetString()!;
        }

        Assert.Equal(20, (await ViewAsync("all", token)).GetProperty("state").GetProperty("count").GetInt32());

        // Version 2 sums instead of counting. Reads during its build answer from version 1, never stale.
        var put = Task.Run(() => PutScriptAsync($$"""fromStores('{{_store}}').when({ Tick: (s, e) => { s.sum = (s.sum || 0) + e.data.n; return s; } });"""));
        var seen = new List<JsonElement>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var view = await ViewAsync("all", token, silo_: seen.Count % 3);
            seen.Add(view);
            if (view.GetProperty("state").TryGetProperty("sum", out _))
            {
                break;
            }
        }

        await put;
        Assert.All(seen, v => Assert.False(v.GetProperty("stale").GetBoolean()));
        Assert.All(seen, v => Assert.True(v.GetProperty("state").TryGetProperty("count", out _) || v.GetProperty("state").GetProperty("sum").GetInt32() == 190));
        Assert.Equal(190, seen[^1].GetProperty("state").GetProperty("sum").GetInt32());

        // Version 3 throws on every event: it parks them, and version 2 stays live.
        await PutScriptAsync($$"""fromStores('{{_store}}').when({ Tick: (s, e) => { throw new Error('broken on purpose'); } });""");
        var held = await WaitForStatusAsync(s => s.TryGetProperty("held", out var h) && h.ValueKind == JsonValueKind.String);
        var (_, appended2) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/t-late", Append("any", (Guid.NewGuid(), "Tick", """{"n":10}""")));
        var after = await ViewAsync("all", appended2.GetProperty("token").GetString());

        Assert.Contains("broken on purpose", held.GetProperty("held").GetString());
        Assert.Equal(2, held.GetProperty("liveVersion").GetInt32());
        Assert.Equal(3, held.GetProperty("rebuildVersion").GetInt32());
        Assert.Equal(200, after.GetProperty("state").GetProperty("sum").GetInt32());
    }

    [Fact]
    public async Task AHostileScript_IsStoppedAndItsEventsParked_WhileAnotherProjectionOfTheSameStoreKeepsRunning()
    {
        await MakeStoreAsync();
        var good = _projection;
        var bad = $"{_projection}-bad";
        await PutScriptAsync($$"""fromStores('{{_store}}').when({ Tick: (s, e) => { s.n = (s.n || 0) + 1; return s; } });""");
        var (badStatus, badBody) = await SendAsync(HttpMethod.Put, $"/api/admin/projections/{bad}",
            JsonSerializer.Serialize(new { script = $$"""fromStores('{{_store}}').when({ Tick: (s, e) => { while (true) {} } });""" }), admin: true);
        Assert.True(badStatus == HttpStatusCode.Created, badBody.ToString());

        string token = "";
        for (var i = 0; i < 3; i++)
        {
            var (_, appended) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/h-{i}", Append("any", (Guid.NewGuid(), "Tick", "{}")));
            token = appended.GetProperty("token").GetString()!;
        }

        var view = await ViewAsync("all", token);
        JsonElement parked = default;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            (_, parked) = await SendAsync(HttpMethod.Get, $"/api/admin/projections/{bad}/parked", admin: true);
            if (parked.GetProperty("parked").GetArrayLength() == 3)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal(good, view.GetProperty("projection").GetString());
        Assert.Equal(3, view.GetProperty("state").GetProperty("n").GetInt32());
        Assert.Equal(3, parked.GetProperty("parked").GetArrayLength());
        Assert.All(parked.GetProperty("parked").EnumerateArray(), p => Assert.Contains("statements", p.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task ScriptsThatDoNotCompile_OrReadUnknownStores_AreRefusedWith400_AndBuiltInNamesWith409()
    {
        await MakeStoreAsync();

        var (syntax, syntaxBody) = await SendAsync(HttpMethod.Put, $"/api/admin/projections/{_projection}", JsonSerializer.Serialize(new { script = "fromStores(" }), admin: true);
        var (unknown, unknownBody) = await SendAsync(HttpMethod.Put, $"/api/admin/projections/{_projection}",
            JsonSerializer.Serialize(new { script = "fromStores('nosuchstore').when({ A: s => s })" }), admin: true);
        var (mismatch, mismatchBody) = await SendAsync(HttpMethod.Put, $"/api/admin/projections/{_projection}",
            JsonSerializer.Serialize(new { script = $"fromStores('{_store}').when({{ A: s => s }})", stores = new[] { "orders" } }), admin: true);
        var (builtIn, _) = await SendAsync(HttpMethod.Put, "/api/admin/projections/orders", JsonSerializer.Serialize(new { script = "fromStores('orders').when({ A: s => s })" }), admin: true);
        var (none, _) = await SendAsync(HttpMethod.Get, $"/api/projections/{_projection}");

        Assert.Equal(HttpStatusCode.BadRequest, syntax);
        Assert.Contains("does not parse", syntaxBody.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Contains("nosuchstore", unknownBody.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, mismatch);
        Assert.Equal("stores", mismatchBody.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.Conflict, builtIn);
        Assert.Equal(HttpStatusCode.NotFound, none);
    }

    [Fact]
    public async Task AnEventThatCommitsLate_BehindOneAppendedOverHttp_IsStillFolded_NotSkipped()
    {
        await MakeStoreAsync();
        await PutScriptAsync($$"""fromStores('{{_store}}').when({ Hit: (s, e) => { s.n = (s.n || 0) + 1; s.last = e.stream; return s; } });""");
        var database = new Reliability.Infrastructure.DatabaseOptions { ConnectionString = silo.ConnectionString };

        // A writer takes a position and holds its transaction open; an append over HTTP gets a later
        // position and commits first. The runner must not move past the open one.
        var slow = EventTables.AppendSlowlyAsync(database, _store, "slow", 1, "Hit", "{}", TimeSpan.FromSeconds(2));
        await Task.Delay(300);
        var (_, fast) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/fast", Append("none", (Guid.NewGuid(), "Hit", "{}")), silo_: 1);
        var slowPosition = await slow;
        var both = await ViewAsync("all", $"{_store}:{slowPosition},{fast.GetProperty("token").GetString()}");

        Assert.True(long.Parse(fast.GetProperty("token").GetString()!.Split(':')[1]) > slowPosition, "the HTTP append should have the later position");
        Assert.False(both.GetProperty("stale").GetBoolean());
        Assert.Equal(2, both.GetProperty("state").GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task ManyClientsAppendingAtOnce_AreAllCounted_ByAView_SoIngestionIsGapSafe()
    {
        await MakeStoreAsync();
        await PutScriptAsync($$"""fromStores('{{_store}}').when({ Hit: (s, e) => { s.n = (s.n || 0) + 1; return s; } });""");

        var tokens = await Task.WhenAll(Enumerable.Range(0, 96).Select(async i =>
        {
            var (status, appended) = await SendAsync(HttpMethod.Post, $"/api/streams/{_store}/g-{i % 12}", Append("any", (Guid.NewGuid(), "Hit", "{}")), silo_: i % 3);
            Assert.Equal(HttpStatusCode.Created, status);
            return appended.GetProperty("token").GetString()!;
        }));
        // A token covers its own event; the view must come to count every one of them (none skipped by a late commit).
        var view = await ViewAsync("all", string.Join(",", tokens.Take(16)));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (view.GetProperty("events").GetInt32() < 96 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            view = await ViewAsync("all");
        }

        Assert.False(view.GetProperty("stale").GetBoolean());
        Assert.Equal(96, view.GetProperty("state").GetProperty("n").GetInt32());
        Assert.Equal(96, view.GetProperty("events").GetInt32());
    }
}
