using System.Net;
using System.Text.Json;
using Reliability.Client.Infrastructure;
using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>The same add-to-cart sent again and again, in turn and at once, to different silos: one item.</summary>
public sealed class IdempotencyChapter : ITourChapter
{
    public string Title => "Idempotency keys: retries that happen once";

    public async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        using var api = ApiClient.For(context.Target, apiKey: $"tour-{context.RunId}");
        var cart = $"tour-{context.RunId}";
        var body = JsonSerializer.Serialize(new { sku = "book-1", quantity = 1 });

        AnsiConsole.MarkupLine($"[bold]POST /api/carts/{cart}/items[/] with [bold]Idempotency-Key: first[/], five times in turn, each to the next silo:");
        var sequential = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await api.SendAsync(HttpMethod.Post, i, $"/api/carts/{cart}/items", body, Key("first"), cancellationToken);
            sequential.Add(response.StatusCode);
        }

        AnsiConsole.MarkupLine("  " + string.Join("  ", sequential.Select(Describe)));
        AnsiConsole.MarkupLine($"Then [bold]Idempotency-Key: second[/], twenty requests at once spread over {api.SiloCount} silos:");
        var parallel = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var response = await api.SendAsync(HttpMethod.Post, i, $"/api/carts/{cart}/items", body, Key("second"), cancellationToken);
            return response.StatusCode;
        }));
        AnsiConsole.MarkupLine("  " + string.Join("  ", parallel.Select(Describe)));
        AnsiConsole.MarkupLine("And [bold]Idempotency-Key: third[/], twenty at once again, now with [bold]Prefer: wait=5[/]: duplicates wait for the first one's result.");
        var waiting = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            var headers = Key("third");
            headers["Prefer"] = "wait=5";
            using var response = await api.SendAsync(HttpMethod.Post, i, $"/api/carts/{cart}/items", body, headers, cancellationToken);
            return response.StatusCode;
        }));
        AnsiConsole.MarkupLine("  " + string.Join("  ", waiting.Select(Describe)));

        using var cartResponse = await api.SendAsync(HttpMethod.Get, 0, $"/api/carts/{cart}", cancellationToken: cancellationToken);
        using var document = JsonDocument.Parse(await cartResponse.Content.ReadAsStringAsync(cancellationToken));
        var items = document.RootElement.GetProperty("items").EnumerateArray().ToList();
        AnsiConsole.MarkupLine($"The cart holds [bold]{items.Count} items[/], one per key: " +
                               string.Join(", ", items.Select(i => Markup.Escape(KeyOf(i.GetProperty("operationId").GetString()!)))) + ".");
        AnsiConsole.MarkupLine("[green]201[/] ran the operation; [blue]200[/] replayed its stored result (Idempotent-Replayed: true, Idempotent-Original-Status: 201); [yellow]409[/] arrived while the " +
                               "first was still running (Retry-After says when to come back; Prefer: wait=N waits instead). The claim is written to PostgreSQL " +
                               "before the operation starts, so duplicates on different silos meet at the same key grain.");

        await ClaimsAsync(api, cancellationToken);
    }

    /// <summary>The same guarantees for a service that handles its own requests: claim, do the work, store the answer.</summary>
    private static async Task ClaimsAsync(ApiClient api, CancellationToken cancellationToken)
    {
        AnsiConsole.MarkupLine("");
        AnsiConsole.MarkupLine("A service of yours can use the same keys itself, through the [bold]claims API[/] (POST /api/idempotency/claims):");
        var claim = JsonSerializer.Serialize(new { scope = "payments", key = $"charge-{Guid.NewGuid():N}"[..20], fingerprint = "POST /charge amount=12.50" });
        using var first = await api.SendAsync(HttpMethod.Post, 0, "/api/idempotency/claims", claim, cancellationToken: cancellationToken);
        using var claimed = JsonDocument.Parse(await first.Content.ReadAsStringAsync(cancellationToken));
        var token = claimed.RootElement.GetProperty("token").GetString()!;
        using var duplicate = await api.SendAsync(HttpMethod.Post, 1, "/api/idempotency/claims", claim, cancellationToken: cancellationToken);
        var key = JsonDocument.Parse(claim).RootElement.GetProperty("key").GetString()!;
        var answer = JsonSerializer.Serialize(new
        {
            token,
            response = new { statusCode = 201, contentType = "application/json", body = Convert.ToBase64String("""{"charged":"12.50"}"""u8.ToArray()) },
        });
        using var completed = await api.SendAsync(HttpMethod.Put, 0, $"/api/idempotency/claims/payments/{key}", answer, cancellationToken: cancellationToken);
        using var retry = await api.SendAsync(HttpMethod.Post, 2, "/api/idempotency/claims", claim, cancellationToken: cancellationToken);
        AnsiConsole.MarkupLine($"  claim [green]{(int)first.StatusCode}[/] (a token: do the work)  ·  the same claim on another silo meanwhile " +
                               $"[yellow]{(int)duplicate.StatusCode}[/]  ·  store the answer with the token [green]{(int)completed.StatusCode}[/]  ·  " +
                               $"a retry's claim [blue]{(int)retry.StatusCode}[/] with the stored answer, so the service replays it instead of charging twice.");
    }

    private static Dictionary<string, string> Key(string key) => new() { ["Idempotency-Key"] = key };

    /// <summary>The client's key inside an operation id (<c>scope:key#claim</c>).</summary>
    private static string KeyOf(string operationId) => operationId.Split(':')[^1].Split('#')[0];

    private static string Describe(HttpStatusCode status) => (int)status switch
    {
        201 => "[green]201[/]",
        200 => "[blue]200[/]",
        409 => "[yellow]409[/]",
        var other => $"[red]{other}[/]",
    };
}
