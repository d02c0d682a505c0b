namespace Reliability.Client.Infrastructure;

/// <summary>Finds the repository (the folder with orleans.sln), its run folder and the built silo.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>Run state of the local cluster: PostgreSQL data, silo logs, the current cluster's address.</summary>
    public static string RunDirectory => Path.Combine(Root, ".run");

    public static string ClusterFile => Path.Combine(RunDirectory, "cluster.json");

    /// <summary>The silo built with the same configuration as this program, or <c>RELIABILITY_SILO</c>.</summary>
    public static string SiloAssembly()
    {
        if (Environment.GetEnvironmentVariable("RELIABILITY_SILO") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : throw new CommandException($"RELIABILITY_SILO names {configured}, which does not exist.");
        }

        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Release";
        var path = Path.Combine(Root, "Silo", "bin", configuration, "net10.0", "Silo.dll");
        return File.Exists(path)
            ? path
            : throw new CommandException($"The silo is not built ({path} is missing): run `dotnet build orleans.sln -c {configuration}` first.");
    }

    /// <summary>The client built with the same configuration (for <c>Client upstream</c> as a process of its own).</summary>
    public static string ClientAssembly()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Release";
        var path = Path.Combine(Root, "Client", "bin", configuration, "net10.0", "Client.dll");
        return File.Exists(path)
            ? path
            : throw new CommandException($"The client is not built ({path} is missing): run `dotnet build orleans.sln -c {configuration}` first.");
    }

    private static string FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "orleans.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
