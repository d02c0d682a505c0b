using System.ComponentModel;
using Grpc.Core;
using Grpc.Net.Client;
using Reliability.Client.Infrastructure;
using Reliability.Envoy.RateLimit;
using Reliability.Envoy.RateLimitService;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands.RateLimiting;

public sealed class RlsCheckSettings : CommandSettings
{
    [CommandOption("--domain <DOMAIN>")]
    [Description("The domain of the rate-limit configuration (its YAML's 'domain').")]
    public string Domain { get; init; } = "";

    [CommandOption("-d|--descriptor <ENTRIES>")]
    [Description("One descriptor as key=value[,key=value]...; repeat the option for several (decided together, all or nothing).")]
    public string[] Descriptors { get; init; } = [];

    [CommandOption("--hits <N>")]
    [Description("hits_addend: the request's cost (0 or none means 1).")]
    [DefaultValue(0u)]
    public uint Hits { get; init; }

    [CommandOption("--rls <URL>")]
    [Description("A silo's rate-limit service, e.g. http://127.0.0.1:8181. Default: the first silo of the cluster ./run.sh started.")]
    public string? Rls { get; init; }

    [CommandOption("--silo <N>")]
    [Description("Which silo of ./run.sh's cluster to ask (0-based). Default 0.")]
    [DefaultValue(0)]
    public int Silo { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Domain) ? ValidationResult.Error("--domain is required.")
        : Descriptors.Length == 0 ? ValidationResult.Error("give at least one --descriptor key=value[,key=value]")
        : Descriptors.SelectMany(d => d.Split(',')).FirstOrDefault(e => !e.Contains('=') || e.StartsWith('=')) is { } bad
            ? ValidationResult.Error($"'{bad}' is not key=value")
            : ValidationResult.Success();
}

/// <summary><c>ratelimit rls check</c>: one ShouldRateLimit call, as Envoy makes it, and what came back.</summary>
public sealed class RlsCheckCommand : AsyncCommand<RlsCheckSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RlsCheckSettings settings, CancellationToken cancellationToken)
    {
        var address = settings.Rls ?? RunningClusterRls(settings.Silo)
            ?? throw new CommandException("No rate-limit service address is known: pass --rls http://host:port (a silo's RateLimitService:Port).");
        var request = new RateLimitRequest { Domain = settings.Domain, HitsAddend = settings.Hits };
        foreach (var descriptor in settings.Descriptors)
        {
            var entries = descriptor.Split(',').Select(e => e.Split('=', 2)).Select(kv => new RateLimitDescriptor.Types.Entry { Key = kv[0].Trim(), Value = kv[1].Trim() });
            var message = new RateLimitDescriptor();
            message.Entries.AddRange(entries);
            request.Descriptors.Add(message);
        }

        using var channel = GrpcChannel.ForAddress(address);
        RateLimitResponse response;
        try
        {
            response = await new RateLimitService.RateLimitServiceClient(channel).ShouldRateLimitAsync(request, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken);
        }
        catch (RpcException ex)
        {
            throw new CommandException($"{address}: {ex.StatusCode}: {ex.Status.Detail}");
        }

        Show(address, settings.Descriptors, response);
        return response.OverallCode == RateLimitResponse.Types.Code.Ok ? 0 : 3;
    }

    /// <summary>Silo <paramref name="index"/>'s rate-limit service in the cluster ./run.sh started, if any.</summary>
    public static string? RunningClusterRls(int index) =>
        ClusterRunInfo.TryRead(RepositoryPaths.ClusterFile)?.RlsUrls is { Count: > 0 } urls ? urls[index % urls.Count] : null;

    public static void Show(string address, IReadOnlyList<string> descriptors, RateLimitResponse response)
    {
        var overall = response.OverallCode == RateLimitResponse.Types.Code.Ok ? "[green]OK[/]" : "[red]OVER_LIMIT[/]";
        var undecided = response.DynamicMetadata?.Fields.TryGetValue("undecided_failure_mode", out var mode) == true ? mode.StringValue : null;
        AnsiConsole.MarkupLine($"{Markup.Escape(address)} answered {overall}" +
                               (undecided is null ? "" : $" [yellow]by its failure mode ({Markup.Escape(undecided)}): the cluster did not decide within the budget[/]"));
        var table = new Table().AddColumns("descriptor", "code", "rule", "limit", "remaining", "reset in");
        for (var i = 0; i < response.Statuses.Count; i++)
        {
            var status = response.Statuses[i];
            var limit = status.CurrentLimit;
            table.AddRow(
                Markup.Escape(i < descriptors.Count ? descriptors[i] : $"#{i}"),
                status.Code == RateLimitResponse.Types.Code.Ok ? "[green]OK[/]" : "[red]OVER_LIMIT[/]",
                Markup.Escape(limit?.Name ?? (undecided is null ? "(no rule: unlimited)" : "(not decided)")),
                limit is null ? "" : $"{limit.RequestsPerUnit} per {limit.Unit.ToString().ToLowerInvariant()}",
                limit is null ? "" : status.LimitRemaining.ToString(),
                status.DurationUntilReset is { } reset ? $"{reset.ToTimeSpan().TotalSeconds:0.###} s" : "");
        }

        AnsiConsole.Write(table);
        foreach (var header in response.ResponseHeadersToAdd)
        {
            AnsiConsole.MarkupLine($"  [grey]{Markup.Escape(header.Key)}: {Markup.Escape(header.Value)}[/]");
        }
    }
}
