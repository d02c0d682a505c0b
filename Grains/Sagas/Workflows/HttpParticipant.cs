using System.Collections.Immutable;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Reliability.Sagas.Workflows;

/// <summary>The saga around one HTTP call: who is calling, what the templates may read, the step's policy, and for a callback step the attempt's token.</summary>
public sealed record StepCall(string SagaId, string StepName, bool Compensation, string? Input, ImmutableDictionary<string, string>? Responses, StepPolicy Policy, string? CallbackToken = null, string? Item = null);

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
    public const string CallbackHeader = "X-Saga-Callback";
    public const string CallbackTokenHeader = "X-Saga-Callback-Token";

    /// <summary>The longest one request of an accepted (polled or called back) step may take; the step's timeout bounds the whole wait.</summary>
    public static readonly TimeSpan MaxRequestTime = TimeSpan.FromSeconds(30);

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
            var limit = RequestTimeout(step.Policy);
            using var timeout = new CancellationTokenSource(limit, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
                var status = (int)response.StatusCode;
                var (body, tooLarge) = await ReadBodyAsync(response, http.MaxResponseBytes, linked.Token);
                var record = new CallRecord(call.Method, url, status, time.GetElapsedTime(started).TotalMilliseconds);
                var kind = HttpAnswers.Classify(status, step.Policy.NonRetryableStatuses);
                if (status == 202 && step.Policy.Completion != StepCompletion.Answer)
                {
                    return Accepted(response, request.RequestUri, step, record, http);
                }

                var retryAfter = kind == StepOutcomeKind.Failed ? HttpAnswers.RetryAfter(response.Headers.RetryAfter?.ToString(), time.GetUtcNow()) : null;
                var detail = kind == StepOutcomeKind.Succeeded
                    ? tooLarge ? $"{status}; its body is over {http.MaxResponseBytes} bytes and was not kept" : null
                    : $"{status} {response.ReasonPhrase}{Excerpt(body)}";
                var kept = kind == StepOutcomeKind.Succeeded ? Kept(status, tooLarge ? null : body) : null;
                return new StepOutcome(kind, detail, Call: record, Response: kept, RetryAfter: retryAfter);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return new StepOutcome(StepOutcomeKind.Failed, $"no answer within {limit.TotalSeconds:0.###} s",
                    Call: new CallRecord(call.Method, url, null, time.GetElapsedTime(started).TotalMilliseconds));
            }
            catch (HttpRequestException ex)
            {
                return new StepOutcome(StepOutcomeKind.Failed, $"could not reach the participant: {ex.Message}",
                    Call: new CallRecord(call.Method, url, null, time.GetElapsedTime(started).TotalMilliseconds));
            }
        }
    }

    /// <summary>
    /// Asks an accepted call's Location how it went: 202 (or a transient failure) means still running, another 2xx
    /// the result (its body kept like an answer's), a rejection is the step's rejection.
    /// </summary>
    public async Task<StepOutcome> PollAsync(string url, StepCall step, CancellationToken cancellationToken)
    {
        var http = options.Value.Http;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("traceparent", TraceParent());
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (!http.Allows(request.RequestUri!))
        {
            return new StepOutcome(StepOutcomeKind.Rejected, $"the poll location's host '{request.RequestUri!.Authority}' is not in Sagas:Http:AllowedHosts");
        }

        var started = time.GetTimestamp();
        using var timeout = new CancellationTokenSource(RequestTimeout(step.Policy), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var status = (int)response.StatusCode;
            var (body, tooLarge) = await ReadBodyAsync(response, http.MaxResponseBytes, linked.Token);
            var record = new CallRecord("GET", url, status, time.GetElapsedTime(started).TotalMilliseconds);
            return (status, HttpAnswers.Classify(status, step.Policy.NonRetryableStatuses)) switch
            {
                (202, _) or (_, StepOutcomeKind.Failed) => new StepOutcome(StepOutcomeKind.Accepted, $"{status}: still running", Call: record),
                (_, StepOutcomeKind.Succeeded) => new StepOutcome(StepOutcomeKind.Succeeded, tooLarge ? "its body was over the limit and not kept" : null, Call: record, Response: Kept(status, tooLarge ? null : body)),
                _ => new StepOutcome(StepOutcomeKind.Rejected, $"{status} {response.ReasonPhrase}{Excerpt(body)}", Call: record),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
        {
            // The status resource is unreachable for now: the call is still accepted, asked again until its deadline.
            return new StepOutcome(StepOutcomeKind.Accepted, $"poll failed: {ex.Message}");
        }
    }

    /// <summary>An answer as kept for later templates: <c>{"status":…,"body":…}</c>.</summary>
    public static string Kept(int status, string? body)
    {
        JsonNode? node = null;
        if (!string.IsNullOrEmpty(body))
        {
            try
            {
                node = JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                node = JsonValue.Create(body);
            }
        }

        return Kept(status, node);
    }

    private static string Kept(int status, JsonNode? body) => new JsonObject { ["status"] = status, ["body"] = body }.ToJsonString();

    private static TimeSpan RequestTimeout(StepPolicy policy) =>
        policy.Completion == StepCompletion.Answer || policy.Timeout < MaxRequestTime ? policy.Timeout : MaxRequestTime;

    /// <summary>A 202 of a poll or callback step: the call is accepted, polled at its Location (which must be allowed too) or waited on.</summary>
    private static StepOutcome Accepted(HttpResponseMessage response, Uri requested, StepCall step, CallRecord record, SagaHttpOptions http)
    {
        if (step.Policy.Completion == StepCompletion.Callback)
        {
            return new StepOutcome(StepOutcomeKind.Accepted, "202: waiting for the participant's callback", Call: record);
        }

        if (response.Headers.Location is not { } location)
        {
            return new StepOutcome(StepOutcomeKind.Failed, "202 without a Location to poll", Call: record);
        }

        var poll = location.IsAbsoluteUri ? location : new Uri(requested, location);
        return http.Allows(poll)
            ? new StepOutcome(StepOutcomeKind.Accepted, $"202: polling {poll}", Call: record, PollUrl: poll.ToString())
            : new StepOutcome(StepOutcomeKind.Rejected, $"202 with a Location on '{poll.Authority}', which is not in Sagas:Http:AllowedHosts", Call: record);
    }

    /// <summary>What the templates of a call may read: the input, the answers of the steps that succeeded, and a forEach step's item.</summary>
    public static JsonObject Context(string? input, ImmutableDictionary<string, string>? responses, string? item = null)
    {
        var steps = new JsonObject();
        foreach (var (name, response) in responses ?? ImmutableDictionary<string, string>.Empty)
        {
            steps[name] = new JsonObject { ["response"] = JsonNode.Parse(response) };
        }

        var context = new JsonObject { ["input"] = input is null ? null : JsonNode.Parse(input), ["steps"] = steps };
        if (item is not null)
        {
            context["item"] = JsonNode.Parse(item);
        }

        return context;
    }

    private static HttpRequestMessage Build(HttpCall call, StepCall step, SagaHttpOptions http)
    {
        var context = Context(step.Input, step.Responses, step.Item);
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
        if (step.CallbackToken is not null)
        {
            request.Headers.TryAddWithoutValidation(CallbackHeader, $"{http.CallbackBaseUrl.TrimEnd('/')}/api/sagas/{Uri.EscapeDataString(step.SagaId)}/steps/{Uri.EscapeDataString(step.StepName)}/complete");
            request.Headers.TryAddWithoutValidation(CallbackTokenHeader, step.CallbackToken);
        }

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
