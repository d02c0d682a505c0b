using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Reliability.Sagas;
using Reliability.Services;
using Reliability.Silo.Http.Idempotency;

namespace Reliability.Silo.Http.Sagas;

/// <summary>
/// Orders and transfers start sagas (both require an Idempotency-Key: one key starts at most one saga),
/// operators read, retry and cancel them, and the services' state and seeding are exposed for demos.
/// </summary>
public static class SagaEndpoints
{
    private const int MaxLines = 20;
    private static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(2);

    public static WebApplication MapSagas(this WebApplication app)
    {
        app.MapPost("/api/orders", PlaceOrderAsync).RequireIdempotencyKey().WithTags("Sagas");
        app.MapPost("/api/transfers", TransferAsync).RequireIdempotencyKey().WithTags("Sagas");

        var sagas = app.MapGroup("/api/sagas").WithTags("Sagas");
        sagas.MapGet("/{sagaId}", async (string sagaId, IGrainFactory grains) =>
            GrainKeys.Check(sagaId, "sagaId") is { } invalid ? Problems.BadRequest(invalid)
            : await grains.GetGrain<ISagaGrain>(sagaId).Get() is { } view ? Results.Ok(view) : Problems.NotFound($"No saga '{sagaId}'."));
        sagas.MapGet("/", ListAsync);
        sagas.MapPost("/{sagaId}/steps/{step}/complete", CompleteStepAsync);

        var admin = app.MapGroup("/api/admin").WithTags("Sagas admin").AddEndpointFilter<AdminOnlyFilter>();
        admin.MapPost("/sagas/{sagaId}/retry", async (string sagaId, IGrainFactory grains) =>
            GrainKeys.Check(sagaId, "sagaId") is { } invalid ? Problems.BadRequest(invalid)
            : await grains.GetGrain<ISagaGrain>(sagaId).Retry()
                ? Results.Accepted($"/api/sagas/{sagaId}")
                : Problems.Create(StatusCodes.Status409Conflict, "not-parked", "Only a parked saga can be retried.", $"Saga '{sagaId}' is not in status Failed."));
        admin.MapPost("/sagas/{sagaId}/cancel", CancelAsync);
        admin.MapPut("/accounts/{accountId}", OpenAccountAsync);
        admin.MapPost("/inventory/{sku}/restock", RestockAsync);

        var services = app.MapGroup("/api").WithTags("Services");
        services.MapGet("/accounts/{accountId}", async (string accountId, IGrainFactory grains) =>
            Ids.Check(accountId, "accountId") is { } invalid ? Problems.BadRequest(invalid)
            : await grains.GetGrain<IAccountGrain>(accountId).Get() is { Exists: true } view ? Results.Ok(view) : Problems.NotFound($"No account '{accountId}'."));
        services.MapGet("/inventory/{sku}", async (string sku, IGrainFactory grains) =>
            Ids.Check(sku, "sku") is { } invalid ? Problems.BadRequest(invalid)
            : await grains.GetGrain<IInventoryGrain>(sku).Get() is { Exists: true } view ? Results.Ok(view) : Problems.NotFound($"No SKU '{sku}'."));
        services.MapGet("/orders/{orderId}", async (string orderId, IGrainFactory grains) =>
            GrainKeys.Check(orderId, "orderId") is { } invalid ? Problems.BadRequest(invalid)
            : await grains.GetGrain<IOrderGrain>(orderId).Get() is { Status: not OrderStatus.None } view ? Results.Ok(view) : Problems.NotFound($"No order '{orderId}'."));
        services.MapGet("/payments/{paymentId}", async (string paymentId, IGrainFactory grains) =>
            GrainKeys.Check(paymentId, "paymentId") is { } invalid ? Problems.BadRequest(invalid)
            : await grains.GetGrain<IPaymentGrain>(paymentId).Get() is { Status: not PaymentStatus.None } view ? Results.Ok(view) : Problems.NotFound($"No payment '{paymentId}'."));
        return app;
    }

    private static async Task<IResult> PlaceOrderAsync(HttpContext http, IGrainFactory grains)
    {
        var (body, problem) = await JsonBody.ReadAsync<PlaceOrderBody>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var items = body!.Items ?? [];
        var invalid = Ids.Check(body.CustomerId, "customerId")
            ?? (items.Length is 0 or > MaxLines ? new FieldError("items", $"must list 1 to {MaxLines} items") : null)
            ?? items.Select((item, i) => Ids.Check(item.Sku, $"items[{i}].sku")
                ?? (item.Quantity is null or < 1 or > 1000 ? new FieldError($"items[{i}].quantity", $"must be 1 to 1000 (got {item.Quantity?.ToString() ?? "nothing"})") : null))
                .FirstOrDefault(e => e is not null)
            ?? (items.Select(i => i.Sku).Distinct().Count() != items.Length ? new FieldError("items", "list each SKU once") : null);
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        var lines = ImmutableArray.CreateBuilder<OrderLine>();
        foreach (var item in items)
        {
            var stock = await grains.GetGrain<IInventoryGrain>(item.Sku!).Get();
            if (!stock.Exists)
            {
                return Unprocessable("unknown-sku", $"SKU '{item.Sku}' does not exist.");
            }

            lines.Add(new OrderLine(item.Sku!, item.Quantity!.Value, stock.UnitPrice));
        }

        var orderId = IdFrom(http, "o");
        return await StartAsync(grains, $"order-{orderId}", SagaDefinitions.PlaceOrder(orderId, body.CustomerId!, lines.ToImmutable()));
    }

    private static async Task<IResult> TransferAsync(HttpContext http, IGrainFactory grains)
    {
        var (body, problem) = await JsonBody.ReadAsync<TransferBody>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var invalid = Ids.Check(body!.From, "from") ?? Ids.Check(body.To, "to") ?? Money.Check(body.Amount);
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        if (body.From == body.To)
        {
            return Unprocessable("same-account", "A transfer needs two different accounts.");
        }

        foreach (var account in new[] { body.From!, body.To! })
        {
            if (!(await grains.GetGrain<IAccountGrain>(account).Get()).Exists)
            {
                return Unprocessable("unknown-account", $"Account '{account}' does not exist.");
            }
        }

        var transferId = IdFrom(http, "t");
        return await StartAsync(grains, $"transfer-{transferId}", SagaDefinitions.Transfer(transferId, body.From!, body.To!, body.Amount!.Value));
    }

    /// <summary>201 with the saga when it finished within two seconds, else 202; either way Location is the saga.</summary>
    private static async Task<IResult> StartAsync(IGrainFactory grains, string sagaId, WorkflowStart start)
    {
        var saga = grains.GetGrain<ISagaGrain>(sagaId);
        var view = await saga.StartWorkflow(start);
        view = await saga.WaitForTerminal(AnswerWithin) ?? view;
        return view.Status.IsTerminal()
            ? Results.Created($"/api/sagas/{sagaId}", view)
            : Results.Accepted($"/api/sagas/{sagaId}", view);
    }

    /// <summary>
    /// A participant that answered 202 to a callback step reports how the call ended, with the one-time token its
    /// request carried (in the body's <c>token</c> or the <c>X-Saga-Callback-Token</c> header).
    /// </summary>
    private static async Task<IResult> CompleteStepAsync(string sagaId, string step, HttpContext http, IGrainFactory grains)
    {
        if ((GrainKeys.Check(sagaId, "sagaId") ?? GrainKeys.Check(step, "step")) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        var (body, problem) = await JsonBody.ReadAsync<CompleteStepBody>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var token = body!.Token ?? http.Request.Headers["X-Saga-Callback-Token"].ToString();
        var succeeded = body.Outcome switch
        {
            null or "succeeded" => true,
            "rejected" => false,
            _ => (bool?)null,
        };
        if (succeeded is null)
        {
            return Problems.BadRequest(new FieldError("outcome", "must be \"succeeded\" or \"rejected\""));
        }

        if (string.IsNullOrEmpty(token))
        {
            return Problems.BadRequest(new FieldError("token", "is required: the X-Saga-Callback-Token the step's request carried"));
        }

        var result = await grains.GetGrain<ISagaGrain>(sagaId).CompleteStep(step, token, succeeded.Value, body.Body?.GetRawText(), body.Reason);
        return result switch
        {
            CallbackResult.Completed => Results.Ok(new { sagaId, step, outcome = succeeded.Value ? "succeeded" : "rejected" }),
            CallbackResult.WrongToken => Problems.Create(StatusCodes.Status403Forbidden, "wrong-token", "This token does not complete the step.",
                $"Step '{step}' of saga '{sagaId}' waits for the token of its latest attempt; this is not it."),
            _ => Problems.Create(StatusCodes.Status409Conflict, "not-waiting", "No step is waiting for a callback.",
                $"Saga '{sagaId}' has no step '{step}' waiting for a callback: it was completed already, gave up waiting, or never waited."),
        };
    }

    private static async Task<IResult> ListAsync(string? status, int? limit, IGrainFactory grains)
    {
        SagaStatus? filter = null;
        if (status is not null)
        {
            if (!Enum.TryParse<SagaStatus>(status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                return Problems.BadRequest(new FieldError("status", $"must be one of {string.Join(", ", Enum.GetNames<SagaStatus>())}"));
            }

            filter = parsed;
        }

        var directory = grains.GetGrain<ISagaDirectoryGrain>(0);
        return Results.Ok(new { counts = await directory.Counts(), sagas = await directory.List(filter, limit ?? 50) });
    }

    private static async Task<IResult> CancelAsync(string sagaId, HttpContext http, IGrainFactory grains)
    {
        if (GrainKeys.Check(sagaId, "sagaId") is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        var reason = "cancelled by an operator";
        if (http.Request.ContentLength > 0)
        {
            var (body, problem) = await JsonBody.ReadAsync<CancelBody>(http.Request);
            if (problem is not null)
            {
                return problem;
            }

            reason = body!.Reason ?? reason;
        }

        return await grains.GetGrain<ISagaGrain>(sagaId).Cancel(reason)
            ? Results.Accepted($"/api/sagas/{sagaId}")
            : Problems.Create(StatusCodes.Status409Conflict, "not-running", "Only a running saga can be cancelled.", $"Saga '{sagaId}' is not running.");
    }

    private static async Task<IResult> OpenAccountAsync(string accountId, HttpContext http, IGrainFactory grains)
    {
        var (body, problem) = await JsonBody.ReadAsync<OpenAccountBody>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        if ((Ids.Check(accountId, "accountId") ?? (body!.Balance is null or < 0 || decimal.Round(body.Balance.Value, 2) != body.Balance
                ? new FieldError("balance", "must be 0 or more with at most 2 decimal places") : null)) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        var result = await grains.GetGrain<IAccountGrain>(accountId).Open($"open:{accountId}", body!.Balance!.Value);
        return result.Succeeded ? Results.Created($"/api/accounts/{accountId}", await grains.GetGrain<IAccountGrain>(accountId).Get())
            : Unprocessable(result.Code!, result.Message!);
    }

    private static async Task<IResult> RestockAsync(string sku, HttpContext http, IGrainFactory grains)
    {
        var (body, problem) = await JsonBody.ReadAsync<RestockBody>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var invalid = Ids.Check(sku, "sku")
            ?? (body!.Quantity is null or < 1 or > 1_000_000 ? new FieldError("quantity", "must be 1 to 1,000,000") : null)
            ?? Money.Check(body.UnitPrice, "unitPrice");
        if (invalid is not null)
        {
            return Problems.BadRequest(invalid);
        }

        var inventory = grains.GetGrain<IInventoryGrain>(sku);
        await inventory.Restock($"restock:{Guid.NewGuid():N}", body!.Quantity!.Value, body.UnitPrice!.Value);
        return Results.Ok(await inventory.Get());
    }

    /// <summary>The same request (same idempotency operation) always yields the same id, so it starts the same saga.</summary>
    internal static string IdFrom(HttpContext http, string prefix) =>
        prefix + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(http.IdempotentOperationId())))[..16].ToLowerInvariant();

    private static IResult Unprocessable(string kind, string detail) =>
        Problems.Create(StatusCodes.Status422UnprocessableEntity, kind, "The request cannot be carried out.", detail);
}
