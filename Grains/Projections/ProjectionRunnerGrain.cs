using System.Diagnostics;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Reliability.Infrastructure;
using Reliability.Projections.Scripts;
using Reliability.Services.EventStore;

namespace Reliability.Projections;

/// <summary>
/// The one consumer of a projection (key: its name). A round reads every source store after the
/// generation's checkpoint (only below the store's safe horizon, see <see cref="IEventStore.ReadAfterAsync"/>),
/// routes each event to its view, calls the views concurrently, parks what they could not apply, and
/// only then moves the checkpoints. A crash anywhere before that repeats the round, and the views skip
/// what they had applied, so nothing is lost and nothing is applied twice.
/// <para>
/// Rounds run when a silo nudges after an append, and at least every poll interval; a reminder brings
/// the runner back on another silo if its silo died while nothing was appended.
/// </para>
/// <para>
/// A rebuild reads into a new generation of views beside the live one; when it has caught up, the
/// status row switches to it in one write and the old generation's rows are deleted.
/// </para>
/// <para>
/// A JavaScript projection's generations each carry the script version they are built with. The runner
/// converges on the newest version: a new version is built as a rebuild beside the live one and cut over
/// only if it parked nothing, so a broken script never replaces a working view.
/// </para>
/// </summary>
public sealed partial class ProjectionRunnerGrain(
    IEventStores stores,
    IProjectionStore projectionStore,
    OpenCatalog catalog,
    IOptions<ProjectionOptions> options,
    ProjectionMetrics metrics,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<ProjectionRunnerGrain> logger) : Grain, IProjectionRunnerGrain, IRemindable
{
    private const string ReminderName = "keep-alive";

    /// <summary>A view that fails this many rounds in a row while others succeed has its events parked, so the rest can move.</summary>
    private const int RoundsBeforeParkingAView = 5;

    private static readonly TimeSpan MaxCheckWait = TimeSpan.FromSeconds(2);

    /// <summary>A round's span links to at most this many appends.</summary>
    private const int MaxLinksPerRound = 64;

    /// <summary>How often the runner counts what it has left, for the events-behind gauge.</summary>
    private static readonly TimeSpan BacklogPeriod = TimeSpan.FromSeconds(5);

    private readonly Dictionary<ViewRef, int> _failingViews = [];
    private readonly LagWindow _lag = new(TimeSpan.FromSeconds(30));
    private readonly List<Generation> _abandoned = [];
    private string _name = "";
    private ProjectionDefinition? _builtIn;
    private string? _held;
    private Generation _live = null!;
    private Generation? _rebuild;
    private Task? _pump;
    private Task _saving = Task.CompletedTask;
    private bool _dirty;
    private IGrainTimer? _poll;
    private IGrainTimer? _backlog;
    private TaskCompletionSource _advanced = NewSignal();
    private Guid _epoch = Guid.NewGuid();
    private bool _fallBack;
    private string? _lastError;
    private DateTimeOffset? _lastErrorAt;
    private long _parked;
    private long _statusVersion;

    private string Name => _name;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _name = this.GetPrimaryKeyString();
        _builtIn = ProjectionDefinitions.Find(_name);
        if (_builtIn is null && await catalog.FindAsync(_name) is null)
        {
            throw new ArgumentException($"There is no projection '{_name}'; the built-in ones are {string.Join(", ", ProjectionDefinitions.Names)}, and no script of that name is registered.");
        }

        var (live, rebuilding, version) = await projectionStore.LoadStatusAsync(Name);
        _statusVersion = version;
        _live = await LoadGenerationAsync(live);
        _rebuild = rebuilding is { } number ? await LoadGenerationAsync(number) : null;
        _parked = await projectionStore.CountParkedAsync(Name, live);
        _poll = this.RegisterGrainTimer(
            () =>
            {
                Kick();
                return Task.CompletedTask;
            },
            new GrainTimerCreationOptions(TimeSpan.Zero, options.Value.PollInterval) { KeepAlive = true, Interleave = true });
        _backlog = this.RegisterGrainTimer(ReportBacklogAsync, new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), BacklogPeriod));
        LogStarted(Name, silo.Name, _live.Number, _rebuild?.Number);
        if (_builtIn is null)
        {
            await ConvergeAsync();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _poll?.Dispose();
        _backlog?.Dispose();
        metrics.Forget(Name);
        try
        {
            await SavedAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Only the stored checkpoint is behind; the next activation repeats a round the views skip.
        }
    }

    public Task Nudge()
    {
        Kick();
        return Task.CompletedTask;
    }

    public Task Ensure() => this.EnsureReminderAsync(ReminderName, options.Value.KeepAlivePeriod);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Kick();
        return Task.CompletedTask;
    }

    public async Task<ViewCheck> Check(ImmutableArray<ConsistencyToken> tokens, TimeSpan maxWait)
    {
        var targets = new List<(string Store, StoreCursor Cursor)>();
        foreach (var token in tokens.IsDefault ? [] : tokens)
        {
            if (!_live.Definition.Sources.Contains(token.Store))
            {
                continue;
            }

            if (await stores.For(token.Store).TransactionOfAsync(token.Position) is not { } tx)
            {
                // No such event: nothing will ever apply it.
                return new ViewCheck(_live.Number, false, _rebuild is not null);
            }

            targets.Add((token.Store, new StoreCursor(tx, token.Position)));
        }

        var deadline = time.GetUtcNow() + (maxWait < MaxCheckWait ? maxWait : MaxCheckWait);
        while (true)
        {
            if (targets.TrueForAll(t => _live.CursorOf(t.Store).IsAtOrAfter(t.Cursor.TxId, t.Cursor.Position)))
            {
                return new ViewCheck(_live.Number, true, _rebuild is not null);
            }

            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return new ViewCheck(_live.Number, false, _rebuild is not null);
            }

            Kick();
            using var cancel = new CancellationTokenSource();
            await Task.WhenAny(_advanced.Task, Task.Delay(remaining, time, cancel.Token));
            await cancel.CancelAsync();
        }
    }

    public async Task<ProjectionStatus> GetStatus()
    {
        var now = time.GetUtcNow();
        var sources = await SourcesAsync(now);
        return new ProjectionStatus(Name, _live.Number, _rebuild?.Number, sources, _live.Applied, _rebuild?.Applied ?? 0,
            _lag.Summarize(now), _lastError, _lastErrorAt, _parked, silo.Name, _live.ScriptVersion, _rebuild?.ScriptVersion, _held);
    }

    /// <summary>Each source's checkpoint and what the live generation (and a rebuild) has left of it.</summary>
    private async Task<ImmutableArray<SourceStatus>> SourcesAsync(DateTimeOffset now)
    {
        var sources = ImmutableArray.CreateBuilder<SourceStatus>();
        foreach (var store in _live.Definition.Sources.Union(_rebuild?.Definition.Sources ?? []))
        {
            var source = stores.For(store);
            var (behind, oldest) = await source.BacklogAsync(_live.CursorOf(store));
            var rebuildBehind = _rebuild is { } rebuild ? (await source.BacklogAsync(rebuild.CursorOf(store))).Count : 0;
            var seconds = oldest is { } at && at < now ? (now - at).TotalSeconds : 0;
            sources.Add(new SourceStatus(store, _live.CursorOf(store).Position, behind, seconds, _rebuild?.CursorOf(store).Position, rebuildBehind));
        }

        return sources.ToImmutable();
    }

    /// <summary>The backlog for the gauges, only while a metrics reader listens; a failed count waits for the next.</summary>
    private async Task ReportBacklogAsync(CancellationToken cancellationToken)
    {
        if (!metrics.BacklogWanted)
        {
            return;
        }

        try
        {
            var sources = await SourcesAsync(time.GetUtcNow());
            var behind = sources.Sum(s => s.EventsBehind);
            var rebuildBehind = sources.Sum(s => s.RebuildBehind);
            double? progress = _rebuild is { } running ? running.Applied + rebuildBehind == 0 ? 1 : (double)running.Applied / (running.Applied + rebuildBehind) : null;
            metrics.Backlog(Name, behind, progress);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogBacklogFailed(Name, ex.Message);
        }
    }

    public async Task<ProjectionStatus> Rebuild()
    {
        if (_builtIn is not null)
        {
            if (_rebuild is null)
            {
                await StartRebuildAsync(null);
            }
        }
        else if (await catalog.LatestAsync(Name) is { } latest && (_rebuild is null || _rebuild.ScriptVersion != latest.Version))
        {
            // A rebuild of an older script version gives way to one of the newest.
            await StartRebuildAsync(latest);
        }

        return await GetStatus();
    }

    public async Task<ProjectionStatus> Refresh()
    {
        if (_builtIn is null)
        {
            await ConvergeAsync();
        }

        return await GetStatus();
    }

    /// <summary>A JavaScript projection whose newest version is neither live nor being built starts building it.</summary>
    private async Task ConvergeAsync()
    {
        try
        {
            if (await catalog.LatestAsync(Name) is { } latest && (_rebuild?.ScriptVersion ?? _live.ScriptVersion) < latest.Version)
            {
                await StartRebuildAsync(latest);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            (_lastError, _lastErrorAt) = ($"could not start building the newest script version: {Describe(ex)}", time.GetUtcNow());
        }
    }

    /// <summary>
    /// Starts a rebuild into a fresh generation number (never one used before, so no view of an abandoned
    /// rebuild is mistaken for one of this). A rebuild already running is abandoned; its rows are dropped
    /// by the pump once no round of it is in flight.
    /// </summary>
    private async Task StartRebuildAsync(ScriptProjection? script)
    {
        var number = Math.Max(_live.Number, _rebuild?.Number ?? 0) + 1;
        await projectionStore.DropGenerationAsync(Name, number);
        if (script is not null)
        {
            await catalog.AssignAsync(Name, number, script.Version);
        }

        await SaveStatusAsync(_live.Number, number);
        if (_rebuild is { } abandoned)
        {
            _abandoned.Add(abandoned);
        }

        _rebuild = new Generation(number, [], script is null ? _builtIn! : DefinitionOf(script), script?.Version);
        _held = null;
        LogRebuildStarted(Name, number);
        Kick();
    }

    public async Task<int> ReplayParked()
    {
        var replayed = 0;
        foreach (var parked in await projectionStore.ListParkedAsync(Name, _live.Number, 1000))
        {
            var e = await stores.For(parked.Store).ReadAtAsync(parked.Position);
            var outcome = e is null ? "the event is gone from its store" : await ReplayAsync(e);
            if (outcome is null)
            {
                await projectionStore.UnparkAsync(Name, _live.Number, parked.Store, parked.Position);
                replayed++;
            }
            else
            {
                await projectionStore.ParkAsync(Name, _live.Number, e ?? ToEvent(parked), $"replay failed: {outcome}", 1);
            }
        }

        _parked = await projectionStore.CountParkedAsync(Name, _live.Number);
        LogReplayed(Name, replayed, _parked);
        return replayed;
    }

    public async Task<ImmutableArray<ParkedEvent>> GetParked(int limit) =>
        [.. await projectionStore.ListParkedAsync(Name, _live.Number, Math.Clamp(limit, 1, 1000))];

    /// <summary>Null when the event is now applied (or needs no view); otherwise why not.</summary>
    private async Task<string?> ReplayAsync(ProjectedEvent e)
    {
        try
        {
            var view = _live.Definition.Route(e);
            return view is null || await _live.Definition.View(GrainFactory, new ViewKey(Name, _live.Number, view.Value)).Replay(e)
                ? null
                : "the view cannot apply it: its fold still fails, or later events of its stream were applied since (rebuild the projection instead)";
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Describe(ex);
        }
    }

    private void Kick()
    {
        _dirty = true;
        if (_pump is null || _pump.IsCompleted)
        {
            _pump = PumpAsync();
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            if (_fallBack)
            {
                await FallBackAsync();
            }

            while (_dirty)
            {
                _dirty = false;
                var more = true;
                while (more)
                {
                    await DropAbandonedAsync();
                    more = await RoundAsync(_live, options.Value.LiveBatch, live: true);
                    if (_rebuild is { } rebuild)
                    {
                        var rebuildMore = await RoundAsync(rebuild, options.Value.RebuildBatch, live: false);
                        if (!rebuildMore && ReferenceEquals(rebuild, _rebuild))
                        {
                            await SavedAsync();
                            if (await MayCutOverAsync(rebuild))
                            {
                                await CutOverAsync(rebuild);
                                if (_builtIn is null)
                                {
                                    await ConvergeAsync();
                                }
                            }
                        }

                        more |= rebuildMore;
                    }
                }
            }

            // The last checkpoint write may still be running: the next round waits for it (and reports its
            // failure), so an idle runner does not hold up the round that the next nudge starts.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Sources, views or checkpoints unreachable. The cursors in memory may be ahead of what is durable:
            // a checkpoint write that failed, or view writes a database crash took back with it. The next round
            // starts again from the durable checkpoint.
            (_lastError, _lastErrorAt) = (Describe(ex), time.GetUtcNow());
            _fallBack = true;
            _saving = Task.CompletedTask;
            LogRoundFailed(Name, _lastError);
        }
    }

    /// <summary>
    /// Goes back to the durable checkpoints of both generations, under a new epoch: the views read their rows
    /// again before applying, and the events since the checkpoint are applied again (the views skip what
    /// they really hold). Until this succeeds, no round runs.
    /// </summary>
    private async Task FallBackAsync()
    {
        var live = await LoadGenerationAsync(_live.Number);
        var rebuild = _rebuild is { } current ? await LoadGenerationAsync(current.Number) : null;
        (live.Applied, _live) = (_live.Applied, live);
        if (rebuild is not null)
        {
            (rebuild.Applied, _rebuild) = (_rebuild!.Applied, rebuild);
        }

        _epoch = Guid.NewGuid();
        _fallBack = false;
        LogFellBack(Name, _live.Number);
    }

    /// <summary>
    /// One batch from every source into one generation; true if some source may have more. Once the views
    /// have applied the batch, the cursors move in memory (so waiting queries see it at once) and the
    /// checkpoint write runs while the next round reads; at most one checkpoint write is in flight. If one
    /// fails, the round fails and the runner falls back to the stored checkpoint (see FallBackAsync).
    /// </summary>
    private async Task<bool> RoundAsync(Generation generation, int batch, bool live)
    {
        var sources = generation.Definition.Sources;
        var reads = await Task.WhenAll(sources.Select(store => stores.For(store).ReadAfterAsync(generation.CursorOf(store), batch)));
        await SavedAsync();
        var count = reads.Sum(r => r.Count);
        if (count == 0)
        {
            return false;
        }

        using (var span = StartApplySpan(reads, live))
        {
            await DeliverAsync(generation, reads.SelectMany(r => r));
        }

        if (!live && !ReferenceEquals(generation, _rebuild))
        {
            // Abandoned while its round ran (a newer script version): its checkpoint no longer matters.
            return false;
        }

        var moved = new Dictionary<string, StoreCursor>(StringComparer.Ordinal);
        for (var i = 0; i < reads.Length; i++)
        {
            if (reads[i].Count > 0)
            {
                var last = reads[i][^1];
                moved[sources[i]] = generation.Cursors[sources[i]] = new StoreCursor(last.TxId, last.Position);
            }
        }

        _saving = projectionStore.SaveCheckpointsAsync(Name, generation.Number, moved);
        generation.Applied += count;
        metrics.Applied(Name, live, count);
        if (live)
        {
            var now = time.GetUtcNow();
            foreach (var read in reads)
            {
                foreach (var e in read)
                {
                    _lag.Add(now, now - e.RecordedAt);
                    metrics.Lag(Name, now - e.RecordedAt);
                }
            }

            var advanced = _advanced;
            _advanced = NewSignal();
            advanced.TrySetResult();
        }

        return Array.Exists(reads, r => r.Count >= batch);
    }

    /// <summary>A round's span, linked to the traced appends of its events (a round folds many traces, so links rather than a parent).</summary>
    private Activity? StartApplySpan(IReadOnlyList<ProjectedEvent>[] reads, bool live)
    {
        if (!ToolkitTelemetry.ProjectionSource.HasListeners())
        {
            return null;
        }

        var links = reads.SelectMany(r => r)
            .Select(e => e.TraceParent)
            .Where(t => t is not null)
            .Distinct(StringComparer.Ordinal)
            .Take(MaxLinksPerRound)
            .Select(t => ActivityContext.TryParse(t, null, isRemote: true, out var context) ? new ActivityLink(context) : default)
            .Where(l => l.Context != default)
            .ToList();
        var span = ToolkitTelemetry.ProjectionSource.StartActivity($"projection apply {Name}", ActivityKind.Consumer, default(ActivityContext), links: links);
        span?.SetTag("projection", Name);
        span?.SetTag("projection.generation", live ? "live" : "rebuild");
        span?.SetTag("projection.events", reads.Sum(r => r.Count));
        return span;
    }

    /// <summary>Waits for the checkpoint write in flight, and lets its failure fail the round.</summary>
    private Task SavedAsync()
    {
        var saving = _saving;
        _saving = Task.CompletedTask;
        return saving;
    }

    /// <summary>
    /// Hands each view its events, in order, one call per view, many views at once. Events the views could
    /// not apply are parked. A view whose call fails while others succeed fails the round, and after a few
    /// such rounds its events are parked, so one broken view does not hold up the others; if every call
    /// fails, the views' storage is down and the round is simply repeated.
    /// </summary>
    private async Task DeliverAsync(Generation generation, IEnumerable<ProjectedEvent> events)
    {
        var byView = new Dictionary<ViewRef, List<ProjectedEvent>>();
        foreach (var e in events)
        {
            ViewRef? key;
            try
            {
                key = generation.Definition.Route(e);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await ParkAsync(generation, e, $"cannot be read: {Describe(ex)}", 1);
                continue;
            }

            if (key is { } view)
            {
                if (!byView.TryGetValue(view, out var list))
                {
                    byView[view] = list = [];
                }

                list.Add(e);
            }
        }

        using var gate = new SemaphoreSlim(options.Value.MaxConcurrentDeliveries);
        var calls = byView.Select(async pair =>
        {
            await gate.WaitAsync();
            try
            {
                var failures = await generation.Definition.View(GrainFactory, new ViewKey(Name, generation.Number, pair.Key)).Apply([.. pair.Value], _epoch);
                return (pair.Key, Failures: failures, Error: (Exception?)null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return (pair.Key, Failures: ImmutableArray<ApplyFailure>.Empty, Error: ex);
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        var results = await Task.WhenAll(calls);

        foreach (var (key, failures, _) in results)
        {
            foreach (var failure in failures)
            {
                var e = byView[key].First(x => x.Store == failure.Store && x.Position == failure.Position);
                await ParkAsync(generation, e, failure.Error, 3);
            }
        }

        var failed = results.Where(r => r.Error is not null).ToList();
        if (failed.Count == 0)
        {
            _failingViews.Clear();
            return;
        }

        if (failed.Count == results.Length)
        {
            throw failed[0].Error!;
        }

        var stuck = new List<ViewRef>();
        foreach (var (key, _, error) in failed)
        {
            if (IsUnreachable(error!))
            {
                // Waited for, never skipped: a view that took later events of a stream could not be given the
                // skipped ones in order again, and would stay short of them for good.
                continue;
            }

            var rounds = _failingViews[key] = _failingViews.GetValueOrDefault(key) + 1;
            if (rounds >= RoundsBeforeParkingAView)
            {
                foreach (var e in byView[key])
                {
                    await ParkAsync(generation, e, $"view {key} kept failing: {Describe(error!)}", rounds);
                }

                _failingViews.Remove(key);
                stuck.Add(key);
            }
        }

        if (stuck.Count < failed.Count)
        {
            throw new InvalidOperationException($"{failed.Count - stuck.Count} views failed this round, e.g. {failed[0].Key}: {Describe(failed[0].Error!)}");
        }
    }

    private async Task ParkAsync(Generation generation, ProjectedEvent e, string error, int attempts)
    {
        await projectionStore.ParkAsync(Name, generation.Number, e, error, attempts);
        if (generation == _live)
        {
            _parked++;
            metrics.Parked(Name);
        }

        (_lastError, _lastErrorAt) = ($"parked {e.Store}:{e.Position} ({e.Type}): {error}", time.GetUtcNow());
        LogParked(Name, e.Store, e.Position, e.Type, error);
    }

    /// <summary>
    /// Saves the status over the version this activation read. Refused, this activation is stale (another
    /// moved the projection on, e.g. a duplicate during a partition): it deactivates, and the next one reads
    /// the status afresh.
    /// </summary>
    private async Task SaveStatusAsync(int live, int? rebuilding)
    {
        try
        {
            _statusVersion = (await projectionStore.SaveStatusAsync(Name, live, rebuilding, _statusVersion)).Version;
        }
        catch (ProjectionFencedException ex)
        {
            DeactivateOnIdle();
            // Callers (an operator's rebuild) get an error they can read; the next activation has the status afresh.
            throw new InvalidOperationException($"{ex.Message} This runner has stepped down; ask again.");
        }
    }

    private async Task CutOverAsync(Generation rebuilt)
    {
        var retired = _live;
        await SaveStatusAsync(rebuilt.Number, null);
        (_live, _rebuild, _held) = (rebuilt, null, null);
        _parked = await projectionStore.CountParkedAsync(Name, rebuilt.Number);
        var advanced = _advanced;
        _advanced = NewSignal();
        advanced.TrySetResult();
        LogCutOver(Name, rebuilt.Number, rebuilt.Applied);
        try
        {
            await projectionStore.DropGenerationAsync(Name, retired.Number);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Harmless: nothing reads a retired generation; the next rebuild into its number would drop it first.
            LogDropFailed(Name, retired.Number, ex.Message);
        }
    }

    private async Task<Generation> LoadGenerationAsync(int number)
    {
        var cursors = await projectionStore.LoadCheckpointsAsync(Name, number);
        if (_builtIn is not null)
        {
            return new Generation(number, cursors, _builtIn, null);
        }

        var script = await catalog.ForGenerationAsync(Name, number);
        if (script is null)
        {
            // A projection's first generation, before its first round: it is built with the newest version.
            script = await catalog.LatestAsync(Name) ?? throw new InvalidOperationException($"Projection '{Name}' has no script.");
            await catalog.AssignAsync(Name, number, script.Version);
        }

        return new Generation(number, cursors, DefinitionOf(script), script.Version);
    }

    private static ProjectionDefinition DefinitionOf(ScriptProjection script) =>
        new(script.Name, script.Stores, e => script.Route(e) is { } key ? ViewRef.Partition(key) : null, (grains, key) => grains.GetGrain<IScriptViewGrain>(key.GrainKey));

    /// <summary>
    /// A rebuild that has caught up may go live, unless it builds a new script version and parked events:
    /// then the working view stays live and the new version waits (its parked events say why) for a fixed one.
    /// </summary>
    private async Task<bool> MayCutOverAsync(Generation rebuilt)
    {
        if (_builtIn is not null || rebuilt.ScriptVersion == _live.ScriptVersion)
        {
            return true;
        }

        var parked = await projectionStore.CountParkedAsync(Name, rebuilt.Number);
        if (parked == 0)
        {
            return true;
        }

        var first = (await projectionStore.ListParkedAsync(Name, rebuilt.Number, 1)).FirstOrDefault();
        var held = $"version {rebuilt.ScriptVersion} is held back, version {_live.ScriptVersion} stays live: {parked} events are parked in its rebuild"
            + (first is null ? "" : $", e.g. {first.Store}:{first.Position} ({first.Type}): {first.Error}");
        if (held != _held)
        {
            _held = held;
            LogHeld(Name, held);
        }

        return false;
    }

    /// <summary>Drops the rows of rebuilds given up for a newer version, now that no round of theirs runs.</summary>
    private async Task DropAbandonedAsync()
    {
        while (_abandoned.Count > 0)
        {
            var abandoned = _abandoned[0];
            try
            {
                await projectionStore.DropGenerationAsync(Name, abandoned.Number);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogDropFailed(Name, abandoned.Number, ex.Message);
            }

            _abandoned.RemoveAt(0);
        }
    }

    private static ProjectedEvent ToEvent(ParkedEvent p) => new(p.Store, p.Position, 0, p.StreamId, p.Version, p.Type, "", p.ParkedAt);

    private static string Describe(Exception ex) => $"{ex.GetType().Name}: {ex.Message}";

    /// <summary>
    /// The view could not be reached or could not reach its storage (no answer, its silo gone or cut off, its
    /// database unreachable, another activation's write in the way), as opposed to a view that answered
    /// with an error of its own. Only the latter is parked after a few rounds.
    /// </summary>
    internal static bool IsUnreachable(Exception ex) => ex switch
    {
        TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or Orleans.Storage.InconsistentStateException => true,
        Npgsql.PostgresException => false,
        Npgsql.NpgsqlException or System.Net.Sockets.SocketException or IOException => true,
        AggregateException { InnerExceptions.Count: 1 } single => IsUnreachable(single.InnerExceptions[0]),
        _ => false,
    };

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Generation(int number, Dictionary<string, StoreCursor> cursors, ProjectionDefinition definition, int? scriptVersion)
    {
        public int Number { get; } = number;

        /// <summary>Its sources, routing and views (for a JavaScript projection, those of its script version).</summary>
        public ProjectionDefinition Definition { get; } = definition;

        public int? ScriptVersion { get; } = scriptVersion;

        public Dictionary<string, StoreCursor> Cursors { get; } = cursors;

        public long Applied { get; set; }

        public StoreCursor CursorOf(string store) => Cursors.GetValueOrDefault(store) ?? StoreCursor.Start;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Projection {Projection} runs on {Silo}: live generation {Live}, rebuilding {Rebuilding}")]
    private partial void LogStarted(string projection, string silo, int live, int? rebuilding);

    [LoggerMessage(Level = LogLevel.Information, Message = "Projection {Projection}: rebuilding into generation {Generation}")]
    private partial void LogRebuildStarted(string projection, int generation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Projection {Projection}: {Held}")]
    private partial void LogHeld(string projection, string held);

    [LoggerMessage(Level = LogLevel.Information, Message = "Projection {Projection}: generation {Generation} caught up after {Events} events and is now live")]
    private partial void LogCutOver(string projection, int generation, long events);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Projection {Projection}: could not delete retired generation {Generation}: {Reason}")]
    private partial void LogDropFailed(string projection, int generation, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Projection {Projection}: round failed, repeating it: {Reason}")]
    private partial void LogRoundFailed(string projection, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Projection {Projection}: went back to the durable checkpoint of generation {Generation}")]
    private partial void LogFellBack(string projection, int generation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Projection {Projection}: parked {Store}:{Position} ({Type}): {Reason}")]
    private partial void LogParked(string projection, string store, long position, string type, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Projection {Projection}: replayed {Replayed} parked events, {Left} still parked")]
    private partial void LogReplayed(string projection, int replayed, long left);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Projection {Projection} could not count its backlog: {Reason}")]
    private partial void LogBacklogFailed(string projection, string reason);
}
