using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Reliability.Client.Gateway;

/// <summary>How the demo upstream behaves; changed at run time with <c>PUT /control</c>.</summary>
public sealed record UpstreamControl(int DelayMs = 0, int FailStatus = 0, int PadBytes = 0);

/// <summary>
/// Someone else's service, for the gateway's tour, tests and benchmark: <c>POST /orders</c> (any path but
/// the control ones) applies one effect and answers 201 with Location and ETag. It counts every effect it
/// applied per Idempotency-Key header it saw, so a caller can tell how often a request reached it. With a
/// database, each effect is also one durable PostgreSQL insert (the cost of a real service's write). With
/// <c>honour keys</c> it applies a key once itself and answers a repeat from memory, as an upstream that
/// keeps the gateway's contract would.
/// <list type="bullet">
/// <item><c>PUT /control {"delayMs":…, "failStatus":…, "padBytes":…}</c>: wait before answering (after the
/// effect), answer that status without applying anything, or pad the answer to test large bodies;</item>
/// <item><c>GET /effects</c>: <c>{"total":…, "byKey":{key: count}}</c>; <c>DELETE /effects</c> resets them;</item>
/// <item><c>GET /health</c>: 200.</item>
/// </list>
/// </summary>
public sealed class DemoUpstream : IAsyncDisposable
{
    public const string EffectsTable = "upstream_effects";

    private static readonly JsonSerializerOptions OmitNulls = new(JsonSerializerOptions.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private readonly WebApplication _app;
    private readonly NpgsqlDataSource? _database;
    private readonly bool _honourKeys;
    private readonly ConcurrentDictionary<string, int> _byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _answers = new(StringComparer.Ordinal);
    private long _total;
    private long _orders;
    private UpstreamControl _control = new();

    private DemoUpstream(int port, string? connectionString, bool honourKeys)
    {
        _honourKeys = honourKeys;
        _database = connectionString is null ? null : NpgsqlDataSource.Create(connectionString);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
        _app = builder.Build();
        _app.MapGet("/health", () => Results.Ok("healthy"));
        _app.MapPut("/control", async (HttpRequest request) =>
        {
            try
            {
                var control = await JsonSerializer.DeserializeAsync<UpstreamControl>(request.Body, JsonSerializerOptions.Web) ?? new UpstreamControl();
                if (control.DelayMs is < 0 or > 600_000 || control.FailStatus is not (0 or (>= 400 and <= 599)) || control.PadBytes is < 0 or > 64 * 1024 * 1024)
                {
                    return Results.Problem(statusCode: 400, title: "delayMs is 0 to 600000, failStatus 0 or 400 to 599, padBytes 0 to 67108864.");
                }

                _control = control;
                return Results.Ok(_control);
            }
            catch (JsonException ex)
            {
                return Results.Problem(statusCode: 400, title: "The body is not an UpstreamControl.", detail: ex.Message);
            }
        });
        _app.MapGet("/effects", () => Results.Ok(new { total = Interlocked.Read(ref _total), byKey = _byKey }));
        _app.MapDelete("/effects", () =>
        {
            _byKey.Clear();
            _answers.Clear();
            Interlocked.Exchange(ref _total, 0);
            return Results.NoContent();
        });
        _app.MapMethods("/{**path}", ["POST", "PUT", "PATCH", "DELETE"], ApplyAsync);
    }

    public string Address { get; private set; } = "";

    /// <summary>Starts on <paramref name="port"/> (0: a free one) and returns once it listens.</summary>
    public static async Task<DemoUpstream> StartAsync(int port, string? connectionString, bool honourKeys, CancellationToken cancellationToken)
    {
        var upstream = new DemoUpstream(port, connectionString, honourKeys);
        if (upstream._database is not null)
        {
            await using var create = upstream._database.CreateCommand(
                $"CREATE TABLE IF NOT EXISTS {EffectsTable} (id bigserial PRIMARY KEY, idempotency_key text, path text NOT NULL, body text NOT NULL, at timestamptz NOT NULL DEFAULT now())");
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await upstream._app.StartAsync(cancellationToken);
        upstream.Address = upstream._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return upstream;
    }

    private async Task<IResult> ApplyAsync(string path, HttpRequest request)
    {
        var control = _control;
        if (control.FailStatus != 0)
        {
            return Results.Problem(statusCode: control.FailStatus, title: "The upstream was told to fail.");
        }

        var key = request.Headers["Idempotency-Key"].ToString();
        if (_honourKeys && key.Length > 0 && _answers.TryGetValue(key, out var earlier))
        {
            return Results.Text(earlier, "application/json", statusCode: StatusCodes.Status200OK);
        }

        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync();
        if (_database is not null)
        {
            await using var insert = _database.CreateCommand($"INSERT INTO {EffectsTable} (idempotency_key, path, body) VALUES ($1, $2, $3)");
            insert.Parameters.AddWithValue(key.Length > 0 ? key : DBNull.Value);
            insert.Parameters.AddWithValue("/" + path);
            insert.Parameters.AddWithValue(body);
            await insert.ExecuteNonQueryAsync();
        }

        var applied = _byKey.AddOrUpdate(key, 1, (_, n) => n + 1);
        Interlocked.Increment(ref _total);
        var order = Interlocked.Increment(ref _orders);
        var answer = JsonSerializer.Serialize(new { orderId = order, idempotencyKey = key, timesThisKeyApplied = applied, pad = control.PadBytes > 0 ? new string('.', control.PadBytes) : null }, OmitNulls);
        if (_honourKeys && key.Length > 0)
        {
            _answers[key] = answer;
        }

        if (control.DelayMs > 0)
        {
            await Task.Delay(control.DelayMs);
        }

        request.HttpContext.Response.Headers.ETag = $"\"order-{order}\"";
        // The path may hold anything a client sent (CR, LF, non-ASCII): escaped, it is a valid Location.
        var location = string.Join('/', path.TrimEnd('/').Split('/').Select(Uri.EscapeDataString));
        return new CreatedText(Results.Text(answer, "application/json", statusCode: StatusCodes.Status201Created), $"/{location}/{order}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    /// <summary>A 201 with a JSON body and a Location.</summary>
    private sealed class CreatedText(IResult inner, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers.Location = location;
            return inner.ExecuteAsync(http);
        }
    }
}
