using System.Collections.Immutable;
using Microsoft.Extensions.Options;

namespace Reliability.Silo.RateLimitService;

/// <summary>The domains in force, with the version and where they came from.</summary>
public sealed record RlsConfiguration(long Version, ImmutableDictionary<string, RlsDomain> Domains)
{
    public static RlsConfiguration Empty { get; } = new(0, ImmutableDictionary<string, RlsDomain>.Empty.WithComparers(StringComparer.Ordinal));
}

/// <summary>
/// The rate-limit service's configuration, read from <c>RateLimitService:ConfigPath</c> (a file, or every
/// *.yaml and *.yml of a folder, one domain each) and read again within half a second of a change. A
/// version is all or nothing: a file that cannot be read, or two files of one domain, leave the previous
/// version in force and are reported (<see cref="LastError"/>, and the log) with the file, line and field.
/// </summary>
public sealed partial class RlsConfigStore(IOptions<RateLimitServiceOptions> options, ILogger<RlsConfigStore> logger) : BackgroundService
{
    private static readonly TimeSpan PollPeriod = TimeSpan.FromMilliseconds(500);

    private RlsConfiguration _current = RlsConfiguration.Empty;
    private string _stamp = "";

    public RlsConfiguration Current => Volatile.Read(ref _current);

    /// <summary>Why the files on disk are not in force, or null when they are.</summary>
    public string? LastError { get; private set; }

    /// <summary>Reads the files now if they changed; true when a new version is in force.</summary>
    public bool Reload()
    {
        if (options.Value.ConfigPath is not { } path)
        {
            return false;
        }

        var files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path).Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList()
            : [path];
        var stamp = string.Join("|", files.Select(f => File.Exists(f) ? $"{f}:{File.GetLastWriteTimeUtc(f).Ticks}:{new FileInfo(f).Length}" : f));
        if (stamp == _stamp)
        {
            return false;
        }

        try
        {
            var domains = ImmutableDictionary.CreateBuilder<string, RlsDomain>(StringComparer.Ordinal);
            foreach (var file in files)
            {
                var domain = RlsConfigParser.Parse(File.ReadAllText(file), Path.GetFileName(file));
                if (domains.TryGetValue(domain.Name, out var other))
                {
                    throw new RlsConfigException(domain.Source, 1, "domain", $"'{domain.Name}' is also the domain of {other.Source}");
                }

                domains[domain.Name] = domain;
            }

            _stamp = stamp;
            LastError = null;
            Volatile.Write(ref _current, new RlsConfiguration(Current.Version + 1, domains.ToImmutable()));
            LogLoaded(Current.Version, string.Join(", ", domains.Keys));
            return true;
        }
        catch (Exception ex) when (ex is RlsConfigException or IOException or UnauthorizedAccessException)
        {
            // The same files are not read again until they change; the old version stays in force.
            _stamp = stamp;
            LastError = ex.Message;
            LogRefused(ex.Message, Current.Version);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Reload();
        using var timer = new PeriodicTimer(PollPeriod);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            Reload();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate-limit service configuration version {Version} in force: domains {Domains}")]
    private partial void LogLoaded(long version, string domains);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rate-limit service configuration refused, version {Version} stays in force: {Reason}")]
    private partial void LogRefused(string reason, long version);
}
