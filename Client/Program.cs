using Reliability.Client.Bench;
using Reliability.Client.Commands;
using Reliability.Client.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl-C asks every command to wind down cleanly (silos and PostgreSQL are stopped);
    // a second one ends the process at once.
    if (!cancellation.IsCancellationRequested)
    {
        e.Cancel = true;
        cancellation.Cancel();
    }
};

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("client");
    config.AddCommand<UpCommand>("up")
        .WithDescription("Start PostgreSQL and a local cluster of silo processes, run the tour, keep it up until Ctrl-C.");
    config.AddCommand<TourCommand>("tour").WithDescription("A guided run of every capability against the running cluster.");
    config.AddBranch("cluster", cluster =>
    {
        cluster.SetDescription("The cluster itself.");
        cluster.AddCommand<ClusterStatusCommand>("status").WithDescription("Silos, their status, addresses and activation counts.");
    });
    config.AddBranch("bench", bench =>
    {
        bench.SetDescription("Benchmarks; results and how to read them: docs/benchmarks.md.");
        bench.AddCommand<BenchClusterCommand>("cluster").WithDescription("Silo cold start, cluster formation, and recovery after kill -9.");
    });
    config.SetExceptionHandler((exception, _) =>
    {
        switch (exception)
        {
            case CommandException or CommandAppException:
                AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(exception.Message)}");
                return 2;
            case OperationCanceledException:
                return 130;
            default:
                AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(exception.GetType().Name)}: {Markup.Escape(exception.Message)}");
                return 1;
        }
    });
});

return await app.RunAsync(args, cancellation.Token);
