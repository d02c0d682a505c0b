using Grpc.Net.Client;
using Reliability.Client.Commands.RateLimiting;
using Reliability.Envoy.RateLimit;
using Reliability.Envoy.RateLimitService;
using Spectre.Console;

namespace Reliability.Client.Tour;

/// <summary>The silos as Envoy's global rate limiter: ShouldRateLimit over gRPC, decided by the same per-subject grains.</summary>
public sealed class RateLimitServiceChapter : ITourChapter
{
    public string Title => "Envoy's rate-limit service: the same limits for any gateway";

    public async Task RunAsync(TourContext context, CancellationToken cancellationToken)
    {
        if (context.RlsUrls is not { Count: > 0 } urls)
        {
            AnsiConsole.MarkupLine("[grey]Skipped: this cluster's silos do not serve the rate-limit service (RateLimitService:Port).[/]");
            return;
        }

        var channels = urls.Select(u => GrpcChannel.ForAddress(u)).ToList();
        try
        {
            var clients = channels.Select(c => new RateLimitService.RateLimitServiceClient(c)).ToList();
            var address = $"203.0.113.{DateTime.UtcNow.Second + 10}-{context.RunId}";
            AnsiConsole.MarkupLine($"Envoy, Istio, Contour or Envoy Gateway call [bold]ShouldRateLimit[/] on port {new Uri(urls[0]).Port} (and the next ones) of the silos. " +
                                   "The demo domain (docs/envoy/ratelimit/demo.yaml, envoyproxy/ratelimit's format) allows 5 requests a minute per remote_address:");
            var codes = new List<string>();
            for (var i = 0; i < 6; i++)
            {
                var answer = await clients[i % clients.Count].ShouldRateLimitAsync(Request(("remote_address", address)), cancellationToken: cancellationToken);
                codes.Add(answer.OverallCode == RateLimitResponse.Types.Code.Ok ? "[green]OK[/]" : "[red]OVER_LIMIT[/]");
            }

            AnsiConsole.MarkupLine($"  six requests from {Markup.Escape(address)}, spread over {clients.Count} silos: " + string.Join(" ", codes));
            var other = $"198.51.100.{DateTime.UtcNow.Second + 10}-{context.RunId}";
            AnsiConsole.MarkupLine($"After one request from {Markup.Escape(other)}, a request limited on two descriptors at once, {Markup.Escape(other)} (4 left) " +
                                   $"and {Markup.Escape(address)} (spent), is denied as a whole:");
            await clients[0].ShouldRateLimitAsync(Request(("remote_address", other)), cancellationToken: cancellationToken);
            var both = await clients[1 % clients.Count].ShouldRateLimitAsync(Request([("remote_address", other)], [("remote_address", address)]), cancellationToken: cancellationToken);
            RlsCheckCommand.Show(urls[1 % urls.Count], [$"remote_address={other}", $"remote_address={address}"], both);
            AnsiConsole.MarkupLine("…and the first address still has 4: a denied request takes nothing from any descriptor (Envoy's own service would have counted it). " +
                                   "Try [bold]ratelimit rls check --domain demo --descriptor plan=premium[/], or edit the YAML file while the cluster runs.");
        }
        finally
        {
            channels.ForEach(c => c.Dispose());
        }
    }

    private static RateLimitRequest Request(params (string Key, string Value)[] entries) => Request([entries]);

    private static RateLimitRequest Request(params (string Key, string Value)[][] descriptors)
    {
        var request = new RateLimitRequest { Domain = "demo" };
        foreach (var entries in descriptors)
        {
            var descriptor = new RateLimitDescriptor();
            descriptor.Entries.AddRange(entries.Select(e => new RateLimitDescriptor.Types.Entry { Key = e.Key, Value = e.Value }));
            request.Descriptors.Add(descriptor);
        }

        return request;
    }
}
