using System.ComponentModel;
using Reliability.Client.Infrastructure;
using Spectre.Console.Cli;

namespace Reliability.Client.Commands;

/// <summary>Options of every command that talks to a running cluster.</summary>
public class ClusterSettings : CommandSettings
{
    [CommandOption("--db <CONNECTION>")]
    [Description("PostgreSQL connection string of the cluster's database. Default: $RELIABILITY_DB, then the cluster started by ./run.sh.")]
    public string? Database { get; init; }

    [CommandOption("--http <URLS>")]
    [Description("Comma-separated HTTP base URLs of the silos. Default: those of the cluster started by ./run.sh.")]
    public string? Http { get; init; }

    public ClusterTarget Target() => ClusterTarget.Resolve(Database, Http);
}
