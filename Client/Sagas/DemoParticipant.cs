using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Reliability.Client.Sagas;

/// <summary>
/// How one path of the demo participant misbehaves (<c>PUT /control</c>): the first <see cref="FailTimes"/>
/// calls of each key answer <see cref="FailStatus"/> without an effect (with <see cref="RetryAfterSeconds"/>);
/// the first <see cref="DelayTimes"/> calls of each key apply it and then wait <see cref="DelayMs"/> before
/// answering (a timeout after the commit); <see cref="RejectStatus"/> refuses every action of the path.
/// <see cref="Accept"/> <c>poll</c> or <c>callback</c> answers an action 202 and finishes it <see cref="CompleteAfterMs"/>
/// later: its status resource then answers 200, or it calls the orchestrator back with the token it was given.
/// </summary>
public sealed record PathFaults(int FailTimes = 0, int FailStatus = 503, int RetryAfterSeconds = 0, int DelayTimes = 0, int DelayMs = 0, int RejectStatus = 0,
    string? Accept = null, int CompleteAfterMs = 0);

/// <summary>
/// Someone else's service taking part in sagas, for the workflow tour, tests and benchmark: its own store
/// (this process's memory), and it keeps the orchestrator's contract: an action is applied once per
/// <c>Idempotency-Key</c> (a repeat answers the first answer), and a compensation, whose key ends in
/// <c>/compensation</c>, undoes the action of the same saga and step (<c>…/action</c>) once, if it was applied;
/// one that comes first leaves a mark so that the late action is not applied.
/// <list type="bullet">
/// <item><c>POST|PUT|PATCH /{path}</c>: an action or a compensation, by its key; answers
/// <c>201 {id, key, request}</c> (or 200 for a repeat);</item>
/// <item><c>PUT /control {"/path": PathFaults, …}</c>: injected faults; <c>DELETE /control</c> clears them;</item>
/// <item><c>GET /effects</c>: every action key, whether it is applied, how often it was received, whether it was undone;</item>
/// <item><c>GET /health</c>: 200.</item>
/// </list>
/// </summary>
public sealed class DemoParticipant : IAsyncDisposable
{
    private const string CompensationSuffix = "/compensation";
    private const string ActionSuffix = "/action";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Ledger> _ledger = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _received = new(StringComparer.Ordinal);
    private readonly string _name;
    private Dictionary<string, PathFaults> _faults = new(StringComparer.OrdinalIgnoreCase);
    private long _ids;

    /// <summary>One action key's record: its answer once applied, and whether its compensation ran (or came first).</summary>
    private sealed class Ledger
    {
        public string? Answer { get; set; }

        public string? Path { get; set; }

        public bool Undone { get; set; }

        public string? UndoAnswer { get; set; }

        /// <summary>The trace context the action arrived with: the orchestrator's step span.</summary>
        public string? TraceParent { get; set; }

        /// <summary>For an accepted action: whether it has finished, and where (with which token) to report it; a resent action brings the newest.</summary>
        public bool Finished { get; set; }

        public string? CallbackUrl { get; set; }

        public string? CallbackToken { get; set; }

        public int Callbacks { get; set; }
    }

    private static readonly HttpClient Callbacks = new() { Timeout = TimeSpan.FromSeconds(10) };

    private DemoParticipant(int port, string name)
    {
        _name = name;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
        _app = builder.Build();
        _app.MapGet("/health", () => Results.Ok("healthy"));
        _app.MapPut("/control", async (HttpRequest request) =>
        {
            try
            {
                var faults = await JsonSerializer.DeserializeAsync<Dictionary<string, PathFaults>>(request.Body, JsonSerializerOptions.Web) ?? [];
                _faults = new Dictionary<string, PathFaults>(faults, StringComparer.OrdinalIgnoreCase);
                return Results.Ok(_faults);
            }
            catch (JsonException ex)
            {
                return Results.Problem(statusCode: 400, title: "The body is a map of path to faults.", detail: ex.Message);
            }
        });
        _app.MapDelete("/control", () =>
        {
            _faults = new Dictionary<string, PathFaults>(StringComparer.OrdinalIgnoreCase);
            return Results.NoContent();
        });
        _app.MapGet("/effects", Effects);
        _app.MapDelete("/effects", () =>
        {
            _ledger.Clear();
            _received.Clear();
            return Results.NoContent();
        });
        _app.MapGet("/status/{**key}", (string key) =>
            _ledger.TryGetValue(key, out var ledger) && ledger.Answer is not null
                ? ledger.Finished ? Results.Text(ledger.Answer, "application/json") : Results.Accepted($"/status/{key}", new { key, finished = false })
                : Results.NotFound());
        _app.MapMethods("/{**path}", ["POST", "PUT", "PATCH"], ApplyAsync);
    }

    public string Address { get; private set; } = "";

    /// <summary>Starts on <paramref name="port"/> (0: a free one) and returns once it listens.</summary>
    public static async Task<DemoParticipant> StartAsync(int port, string name, CancellationToken cancellationToken)
    {
        var participant = new DemoParticipant(port, name);
        await participant._app.StartAsync(cancellationToken);
        participant.Address = participant._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return participant;
    }

    private IResult Effects() => Results.Ok(new
    {
        participant = _name,
        applied = _ledger.Values.Count(l => l.Answer is not null),
        undone = _ledger.Values.Count(l => l.Answer is not null && l.Undone),
        actions = _ledger.ToDictionary(l => l.Key, l => new
        {
            applied = l.Value.Answer is not null,
            undone = l.Value.Undone,
            path = l.Value.Path,
            received = _received.GetValueOrDefault(l.Key),
            compensationsReceived = l.Key.EndsWith(ActionSuffix, StringComparison.Ordinal) ? _received.GetValueOrDefault(l.Key[..^ActionSuffix.Length] + CompensationSuffix) : 0,
            traceParent = l.Value.TraceParent,
            finished = l.Value.Finished,
            callbacks = l.Value.Callbacks,
            answer = l.Value.Answer is null ? null : JsonNode.Parse(l.Value.Answer),
        }),
    });

    private async Task<IResult> ApplyAsync(string path, HttpRequest request)
    {
        var key = request.Headers["Idempotency-Key"].ToString();
        if (key.Length == 0)
        {
            return Results.Problem(statusCode: 400, title: "An Idempotency-Key header is required.");
        }

        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync();
        JsonNode? body;
        try
        {
            body = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return Results.Problem(statusCode: 400, title: "The body is not JSON.");
        }

        var route = "/" + path;
        var faults = _faults.GetValueOrDefault(route);
        var compensation = key.EndsWith(CompensationSuffix, StringComparison.Ordinal);
        var actionKey = compensation ? key[..^CompensationSuffix.Length] + ActionSuffix : key;
        var seen = _received.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (faults is { FailTimes: > 0 } && seen <= faults.FailTimes)
        {
            if (faults.RetryAfterSeconds > 0)
            {
                request.HttpContext.Response.Headers.RetryAfter = faults.RetryAfterSeconds.ToString();
            }

            return Results.Problem(statusCode: faults.FailStatus, title: $"{_name} was told to fail ({seen} of {faults.FailTimes}).");
        }

        var ledger = _ledger.GetOrAdd(actionKey, _ => new Ledger());
        string answer;
        bool first;
        lock (ledger)
        {
            if (compensation)
            {
                first = ledger.UndoAnswer is null;
                ledger.Undone = true;
                ledger.UndoAnswer ??= Answer("undo", key, body, ledger.Answer is null ? "nothing to undo" : "undone");
                answer = ledger.UndoAnswer;
            }
            else if (ledger.Answer is not null)
            {
                (first, answer) = (false, ledger.Answer);
            }
            else if (ledger.Undone)
            {
                // Its compensation came first: the saga gave this action up, so it must not take effect now.
                return Results.Problem(statusCode: 409, title: "This action was compensated before it arrived.");
            }
            else if (faults is { RejectStatus: > 0 })
            {
                return Results.Problem(statusCode: faults.RejectStatus, title: $"{_name} refuses {route}.", detail: $"{_name} was told to refuse {route}.");
            }
            else
            {
                first = true;
                ledger.Path = route;
                ledger.TraceParent = request.Headers["traceparent"].ToString();
                ledger.Answer = answer = Answer(route.Trim('/').Replace('/', '-'), key, body, "applied");
            }
        }

        if (!compensation && faults is { DelayTimes: > 0, DelayMs: > 0 } && seen <= faults.DelayTimes + faults.FailTimes)
        {
            await Task.Delay(faults.DelayMs);
        }

        if (!compensation && faults is { Accept: "poll" or "callback" } && !ledger.Finished)
        {
            lock (ledger)
            {
                ledger.CallbackUrl = request.Headers["X-Saga-Callback"].ToString();
                ledger.CallbackToken = request.Headers["X-Saga-Callback-Token"].ToString();
            }

            if (first)
            {
                _ = FinishLaterAsync(ledger, faults);
            }

            return Results.Accepted($"/status/{actionKey}", new { key = actionKey, finished = false });
        }

        return Results.Text(answer, "application/json", statusCode: first ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    /// <summary>
    /// Finishes an accepted action after its delay. A callback goes to the newest address and token the action was
    /// sent with, and is retried until the orchestrator takes it or says nothing waits for it.
    /// </summary>
    private async Task FinishLaterAsync(Ledger ledger, PathFaults faults)
    {
        await Task.Delay(faults.CompleteAfterMs);
        lock (ledger)
        {
            ledger.Finished = true;
        }

        if (faults.Accept != "callback")
        {
            return;
        }

        for (var attempt = 0; attempt < 600; attempt++)
        {
            string? url;
            string? token;
            lock (ledger)
            {
                (url, token) = (ledger.CallbackUrl, ledger.CallbackToken);
            }

            try
            {
                using var answer = new StringContent($"{{\"token\":{JsonSerializer.Serialize(token)},\"outcome\":\"succeeded\",\"body\":{ledger.Answer}}}", System.Text.Encoding.UTF8, "application/json");
                lock (ledger)
                {
                    // Counted when sent: the saga may end (and its caller look) before this callback's answer is back here.
                    ledger.Callbacks++;
                }

                using var response = await Callbacks.PostAsync(url, answer);

                if (response.IsSuccessStatusCode || response.StatusCode == System.Net.HttpStatusCode.Conflict)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                // The silo it was told to call is gone: the saga resends the action from another one, with a new address and token.
            }

            await Task.Delay(500);
        }
    }

    private string Answer(string prefix, string key, JsonNode? body, string outcome) => new JsonObject
    {
        ["id"] = $"{prefix}-{Interlocked.Increment(ref _ids)}",
        ["participant"] = _name,
        ["key"] = key,
        ["outcome"] = outcome,
        ["request"] = body?.DeepClone(),
    }.ToJsonString();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
