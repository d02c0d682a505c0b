using Reliability.Client.Commands.Gateway;
using Reliability.Client.Gateway;
using Reliability.Client.Infrastructure;
using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>The Idempotency-Key contract in front of a service that is not ours: the demo upstream behind the gateway.</summary>
public sealed class GatewayChapter : ITourChapter
{
    public string Title => "The gateway: idempotency in front of someone else's service";

    public async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        if (context.DemoUpstream is not { } upstream)
        {
            AnsiConsole.MarkupLine("[grey]Skipped: this cluster has no demo upstream behind its gateway (./run.sh starts one).[/]");
            return;
        }

        AnsiConsole.MarkupLine($"A plain HTTP service (the demo upstream on {Markup.Escape(upstream)}) knows nothing about retries. Every silo's gateway routes " +
                               $"[bold]{ClusterRunInfo.DemoRoute}/*[/] to it (Gateway:Routes:demo), claiming each POST's Idempotency-Key before forwarding it:");
        using var api = ApiClient.For(context.Target, apiKey: $"tour-{context.RunId}");
        var result = await GatewayTry.RunAsync(api, $"{ClusterRunInfo.DemoRoute}/orders", $"tour-order-{context.RunId}", """{"item":"lamp-1","quantity":1}""", upstream, cancellationToken);
        GatewayTry.Show(result);

        using var control = new DemoUpstreamClient(upstream);
        await control.ControlAsync(new UpstreamControl(FailStatus: 500), cancellationToken);
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = $"tour-flaky-{context.RunId}" };
        using var failed = await api.SendAsync(HttpMethod.Post, 0, $"{ClusterRunInfo.DemoRoute}/orders", """{"item":"piano-1"}""", key, cancellationToken);
        await control.ControlAsync(new UpstreamControl(), cancellationToken);
        using var retried = await api.SendAsync(HttpMethod.Post, 1, $"{ClusterRunInfo.DemoRoute}/orders", """{"item":"piano-1"}""", key, cancellationToken);
        AnsiConsole.MarkupLine($"When the upstream fails, its answer is passed on but not stored: a [red]{(int)failed.StatusCode}[/], then the retry with the same key " +
                               $"is forwarded again and answers [green]{(int)retried.StatusCode}[/].");
        AnsiConsole.MarkupLine("The upstream sees the client's Idempotency-Key header too: if the forwarding silo dies mid-request, the retry is forwarded " +
                               "again with the same key, so an upstream that also honours it stays exactly-once. Routes: [bold]Client gateway routes[/]; docs/gateway.md.");
    }
}
