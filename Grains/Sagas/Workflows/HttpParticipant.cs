using System.Collections.Immutable;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Reliability.Sagas.Workflows;

/// <summary>The saga around one HTTP call: who is calling, what the templates may read, and the step's policy.</summary>
public sealed record StepCall(string SagaId, string StepName, bool Compensation, string? Input, ImmutableDictionary<string, string>? Responses, StepPolicy Policy);

/// <summary>
/// Calls a participant over HTTP for one attempt of a step. Every request carries
/// <c>Idempotency-Key: &lt;saga&gt;/&lt;step&gt;/&lt;action|compensation&gt;</c> (the same on every retry of that
/// call, so a participant that honours it applies the call once) and a W3C <c>traceparent</c>. The answer
/// is classified by <see cref="HttpAnswers"/>; a 2xx body is kept, up to <see cref="SagaHttpOptions.MaxResponseBytes"/>,
/// for later templates.
/// </summary>
public sealed class HttpParticipant(HttpClient client, IOptions<SagaOptions> options, TimeProvider time)
{
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>The key of one call of a saga: its retries share it, the action and its compensation do not.</summary>
    public static string IdempotencyKey(string sagaId, string step, bool compensation) => $"{sagaId}/{step}/{(compensation ? "compensation" : "action")}";

    public async Task<StepOutcome> CallAsync(HttpCall call, StepCall step, CancellationToken cancellationToken)
    {
        var http = options.Value.Http;
        HttpRequestMessage request;
        try
        {
            request = Build(call, step, http);
        }
        catch (TemplateException ex)
        {
            // The participant answered an earlier step without something this call needs: no retry can mend that.
            return new StepOutcome(StepOutcomeKind.Rejected, ex.Message, Call: new CallRecord(call.Method, call.Url, null, 0));
        }

        using (request)
        {
            var url = request.RequestUri!.ToString();
            if (!http.Allows(request.RequestUri))
            {
                return new StepOutcome(StepOutcomeKind.Rejected, $"host '{request.RequestUri.Authority}' is no longer in Sagas:Http:AllowedHosts",
                    Call: new CallRecord(call.Method, url, null, 0));
            }

            var started = time.GetTimestamp();
            using var timeout = new CancellationTokenSource(step.Policy.Timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
                var status = (int)response.StatusCode;
                var (body, tooLarge) = await ReadBodyAsync(response, http.MaxResponseBytes, linked.Token);
                var record = new CallRecord(call.Method, url, status, time.GetElapsedTime(started).TotalMilliseconds);
                var kind = HttpAnswers.Classify(status, step.Policy.NonRetryableStatuses);
                var retryAfter = kind == StepOutcomeKind.Failed ? HttpAnswers.RetryAfter(response.Headers.RetryAfter?.ToString(), time.GetUtcNow()) : null;
                var detail = kind == StepOutcomeKind.Succeeded
                    ? tooLarge ? $"{status}; its body is over {http.MaxResponseBytes} bytes and was not kept" : null
                    : $"{status} {response.ReasonPhrase}{Excerpt(body)}";
                var kept = kind == StepOutcomeKind.Succeeded
                    ? new JsonObject { ["status"] = status, ["body"] = tooLarge ? null : body }.ToJsonString()
                    : null;
                return new StepOutcome(kind, detail, Call: record, Response: kept, RetryAfter: retryAfter);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return new StepOutcome(StepOutcomeKind.Failed, $"no answer within {step.Policy.Timeout.TotalSeconds:0.###} s",
                    Call: new CallRecord(call.Method, url, null, time.GetElapsedTime(started).TotalMilliseconds));
            }
            catch (HttpRequestException ex)
            {
                return new StepOutcome(StepOutcomeKind.Failed, $"could not reach the participant: {ex.Message}",
                    Call: new CallRecord(call.Method, url, null, time.GetElapsedTime(started).TotalMilliseconds));
            }
        }
    }

    /// <summary>What the templates of a call may read: the input and the answers of the steps that succeeded.</summary>
    public static JsonObject Context(string? input, ImmutableDictionary<string, string>? responses)
    {
        var steps = new JsonObject();
        foreach (var (name, response) in responses ?? ImmutableDictionary<string, string>.Empty)
        {
            steps[name] = new JsonObject { ["response"] = JsonNode.Parse(response) };
        }

        return new JsonObject { ["input"] = input is null ? null : JsonNode.Parse(input), ["steps"] = steps };
    }

    private static HttpRequestMessage Build(HttpCall call, StepCall step, SagaHttpOptions http)
    {
        var context = Context(step.Input, step.Responses);
        var request = new HttpRequestMessage(new HttpMethod(call.Method), WorkflowTemplate.RenderText(call.Url, context, Uri.EscapeDataString));
        if (call.Body is not null)
        {
            request.Content = new StringContent(WorkflowTemplate.RenderJson(call.Body, context), Encoding.UTF8, "application/json");
        }

        if (call.Headers.Length > 0)
        {
            var withSecrets = (JsonObject)context.DeepClone();
            withSecrets["secrets"] = new JsonObject(http.Secrets.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)JsonValue.Create(s.Value))));
            foreach (var header in call.Headers)
            {
                request.Headers.TryAddWithoutValidation(header.Name, WorkflowTemplate.RenderText(header.Value, withSecrets));
            }
        }

        request.Headers.TryAddWithoutValidation(IdempotencyHeader, IdempotencyKey(step.SagaId, step.StepName, step.Compensation));
        request.Headers.TryAddWithoutValidation("traceparent", TraceParent());
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    /// <summary>The current span's context (the step's span, a child of the request that started the saga), or a fresh one when nothing is traced.</summary>
    private static string TraceParent() => Activity.Current is { IdFormat: ActivityIdFormat.W3C } current
        ? current.Id!
        : $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-00";

    /// <summary>The body as JSON (a string when it is not JSON), and whether it was over the limit (then null).</summary>
    private static async Task<(JsonNode? Body, bool TooLarge)> ReadBodyAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[Math.Min(limit + 1, 16 * 1024)];
        using var kept = new MemoryStream();
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            kept.Write(buffer, 0, read);
            if (kept.Length > limit)
            {
                return (null, true);
            }
        }

        if (kept.Length == 0)
        {
            return (null, false);
        }

        var bytes = kept.ToArray();
        try
        {
            return (JsonNode.Parse(bytes), false);
        }
        catch (JsonException)
        {
            return (JsonValue.Create(Encoding.UTF8.GetString(bytes)), false);
        }
    }

    private static string Excerpt(JsonNode? body)
    {
        var text = body switch
        {
            null => "",
            JsonObject o when o["detail"] is JsonValue d && d.TryGetValue<string>(out var detail) => detail,
            JsonObject o when o["title"] is JsonValue t && t.TryGetValue<string>(out var title) => title,
            _ => body.ToJsonString(),
        };
        return text.Length == 0 ? "" : $": {(text.Length > 200 ? text[..200] + "…" : text)}";
    }
}
