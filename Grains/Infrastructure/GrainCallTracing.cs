using System.Diagnostics;

namespace Reliability.Infrastructure;

/// <summary>
/// Spans for grain calls that are part of a trace, and only for those. Orleans' own
/// <c>AddActivityPropagation()</c> starts a span for every call, and OpenTelemetry creates every span its
/// sampler drops (so that the decision propagates): each untraced call then costs an Activity and a
/// change of <see cref="Activity.Current"/>, which <c>bench telemetry</c> measured as several percent of
/// the rate-limit check. Here a call carries on the trace of its caller (the W3C <c>traceparent</c> in the
/// RequestContext, as Orleans' clients with activity propagation send it) and starts none: traces begin
/// at the HTTP and gRPC edges, at a saga's start and a projection's round.
/// </summary>
public static class GrainCallTracing
{
    public const string SourceName = "Reliability.GrainCalls";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The span's name: the interface and method, as Orleans names its own (e.g. ISagaGrain/Start).</summary>
    public static string SpanName(IGrainCallContext context)
    {
        var name = context.InterfaceName;
        return $"{name[(name.LastIndexOf('.') + 1)..]}/{context.MethodName}";
    }

    internal static async Task RunAsync(IGrainCallContext context, Activity span)
    {
        span.SetTag("rpc.system", "orleans");
        span.SetTag("rpc.service", context.InterfaceName);
        span.SetTag("rpc.method", context.MethodName);
        try
        {
            await context.Invoke();
        }
        catch (Exception ex)
        {
            span.SetStatus(ActivityStatusCode.Error, ex.Message);
            span.AddException(ex);
            throw;
        }
        finally
        {
            span.Dispose();
        }
    }
}

/// <summary>A call that arrives with a trace context gets a server span, a child of the caller's.</summary>
public sealed class TracedIncomingGrainCalls : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (!GrainCallTracing.Source.HasListeners()
            || RequestContext.Get(GrainCallTracing.TraceParent) is not string traceParent
            || !ActivityContext.TryParse(traceParent, RequestContext.Get(GrainCallTracing.TraceState) as string, isRemote: true, out var parent))
        {
            return context.Invoke();
        }

        var span = GrainCallTracing.Source.StartActivity(GrainCallTracing.SpanName(context), ActivityKind.Server, parent);
        return span is null ? context.Invoke() : GrainCallTracing.RunAsync(context, span);
    }
}

/// <summary>
/// A call made inside a trace gets a client span, and the callee its context; a call made outside one
/// goes as it is, and clears a context left over from an earlier call in the same RequestContext.
/// </summary>
public sealed class TracedOutgoingGrainCalls : IOutgoingGrainCallFilter
{
    public Task Invoke(IOutgoingGrainCallContext context)
    {
        if (Activity.Current is not { IdFormat: ActivityIdFormat.W3C } current)
        {
            if (RequestContext.Get(GrainCallTracing.TraceParent) is not null)
            {
                RequestContext.Remove(GrainCallTracing.TraceParent);
                RequestContext.Remove(GrainCallTracing.TraceState);
            }

            return context.Invoke();
        }

        var span = GrainCallTracing.Source.StartActivity(GrainCallTracing.SpanName(context), ActivityKind.Client);
        var carried = span ?? current;
        RequestContext.Set(GrainCallTracing.TraceParent, carried.Id!);
        if (carried.TraceStateString is { } state)
        {
            RequestContext.Set(GrainCallTracing.TraceState, state);
        }

        return span is null ? context.Invoke() : GrainCallTracing.RunAsync(context, span);
    }
}
