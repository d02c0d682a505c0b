namespace Reliability.Client.Infrastructure;

/// <summary>Where the installed PostgreSQL server programs (initdb, pg_ctl, postgres) live.</summary>
public sealed record PostgresBinaries(string Directory)
{
    public string InitDb => Path.Combine(Directory, "initdb");

    public string PgCtl => Path.Combine(Directory, "pg_ctl");

    /// <summary>
    /// Looks in <c>PG_BINDIR</c>, then <c>pg_config --bindir</c>, then the newest <c>/usr/lib/postgresql/*/bin</c>,
    /// then the PATH. Debian's pg_config may come from the client package and name a directory without a server.
    /// </summary>
    public static async Task<PostgresBinaries> LocateAsync(CancellationToken cancellationToken = default)
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("PG_BINDIR") is { Length: > 0 } fromEnvironment)
        {
            candidates.Add(fromEnvironment);
        }

        if (ProcessRunner.FindOnPath("pg_config") is { } pgConfig)
        {
            var result = await ProcessRunner.RunAsync(pgConfig, ["--bindir"], TimeSpan.FromSeconds(10), cancellationToken);
            if (result.Succeeded)
            {
                candidates.Add(result.Output.Trim());
            }
        }

        if (System.IO.Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(System.IO.Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var major) ? major : 0)
                .Select(d => Path.Combine(d, "bin")));
        }

        if (ProcessRunner.FindOnPath("initdb") is { } initDb)
        {
            candidates.Add(Path.GetDirectoryName(initDb)!);
        }

        var found = candidates.FirstOrDefault(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
        return found is not null
            ? new PostgresBinaries(found)
            : throw new CommandException(
                "PostgreSQL server programs (initdb, pg_ctl) were not found in PG_BINDIR, `pg_config --bindir`, " +
                "/usr/lib/postgresql/*/bin or the PATH. Install PostgreSQL (Debian/Ubuntu: apt-get install postgresql), " +
                "or use a server of your own by passing --db \"<connection string>\" (or RELIABILITY_DB).");
    }
}
