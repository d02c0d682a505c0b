using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using Reliability.RateLimiting;

namespace Reliability.Silo.RateLimitService;

/// <summary>The domains in force, with the version and where they came from.</summary>
public sealed record RlsConfiguration(long Version, ImmutableDictionary<string, RlsDomain> Domains)
{
    public static RlsConfiguration Empty { get; } = new(0, ImmutableDictionary<string, RlsDomain>.Empty.WithComparers(StringComparer.Ordinal));
}

/// <summary>
/// The rate-limit service's configuration: the files of <c>RateLimitService:ConfigPath</c> (a file, or every
/// *.yaml and *.yml of a folder, one domain each), read again within half a second of a change, and the
/// domains set through the admin API (<see cref="IRlsDomainRegistryGrain"/>, polled as often), which take
/// precedence over a file's domain of the same name. A version of the files is all or nothing: a file that
/// cannot be read, or two files of one domain, leave the previous version in force and are reported
/// (<see cref="LastError"/>, and the log) with the file, line and field.
/// </summary>
public sealed partial class RlsConfigStore(IOptions<RateLimitServiceOptions> options, IGrainFactory grains, ILogger<RlsConfigStore> logger) : BackgroundService
{
    private static readonly TimeSpan PollPeriod = TimeSpan.FromMilliseconds(500);

    private RlsConfiguration _current = RlsConfiguration.Empty;
    private ImmutableDictionary<string, RlsDomain> _files = RlsConfiguration.Empty.Domains;
    private ImmutableDictionary<string, RlsDomain> _admin = RlsConfiguration.Empty.Domains;
    private long _adminVersion;
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
        var stamp = string.Join("|", files.Select(f => new FileInfo(f) is { Exists: true } info ? $"{f}:{info.LastWriteTimeUtc.Ticks}:{info.Length}" : f));
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
            _files = domains.ToImmutable();
            Publish();
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

    /// <summary>Takes the admin-set domains if the registry has a newer version; true when it had.</summary>
    public async Task<bool> RefreshAdminAsync()
    {
        var set = await grains.GetGrain<IRlsDomainRegistryGrain>(IRlsDomainRegistryGrain.DefaultKey).GetIfNewer(_adminVersion);
        if (set is null)
        {
            return false;
        }

        var domains = ImmutableDictionary.CreateBuilder<string, RlsDomain>(StringComparer.Ordinal);
        foreach (var (name, yaml) in set.Domains)
        {
            try
            {
                domains[name] = RlsConfigParser.Parse(yaml, $"admin:{name}");
            }
            catch (RlsConfigException ex)
            {
                // Checked when it was set; a text this version cannot read is left out, not fatal.
                LogRefused(ex.Message, Current.Version);
            }
        }

        _admin = domains.ToImmutable();
        _adminVersion = set.Version;
        Publish();
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollPeriod);
        do
        {
            Reload();
            try
            {
                await RefreshAdminAsync();
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && (Http.ErrorHandling.IsUnavailable(ex) || ex is OrleansException or OperationCanceledException))
            {
                // The cluster is not there yet (starting) or for a moment: the next tick asks again.
                LogRegistryUnavailable(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private void Publish()
    {
        var merged = _files.SetItems(_admin);
        Volatile.Write(ref _current, new RlsConfiguration(Current.Version + 1, merged));
        LogLoaded(Current.Version, string.Join(", ", merged.Keys.Order(StringComparer.Ordinal)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate-limit service configuration version {Version} in force: domains {Domains}")]
    private partial void LogLoaded(long version, string domains);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The rate-limit service's domain registry did not answer; asking again: {Reason}")]
    private partial void LogRegistryUnavailable(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rate-limit service configuration refused, version {Version} stays in force: {Reason}")]
    private partial void LogRefused(string reason, long version);
}
