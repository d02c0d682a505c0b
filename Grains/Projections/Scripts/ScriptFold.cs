using Jint.Native;

namespace Reliability.Projections.Scripts;

/// <summary>
/// One view's batch of events through a script: the state stays a live JavaScript value between events
/// (parsed once, written once). A handler that throws or exceeds a limit may have changed the state in
/// place before it stopped, so its event is refused and the state goes back to what it was before that
/// event: the batch's start, with the events applied since folded again (scripts are deterministic folds).
/// </summary>
public sealed class ScriptFold : IDisposable
{
    private readonly ScriptProjection _projection;
    private readonly string? _start;
    private readonly List<ProjectedEvent> _applied = [];
    private ScriptEngine? _engine;
    private JsValue? _state;

    internal ScriptFold(ScriptProjection projection, string? start)
    {
        _projection = projection;
        _start = start;
    }

    /// <summary>Applies the event; null when it was applied, else why not (the state is then as before it).</summary>
    public string? TryApply(ProjectedEvent e)
    {
        var engine = _engine ??= _projection.Rent();
        try
        {
            _state = engine.Apply(_state ?? Begin(engine), e);
            _applied.Add(e);
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _state = null;
            try
            {
                var state = Begin(engine);
                foreach (var earlier in _applied)
                {
                    state = engine.Apply(state, earlier);
                }

                _state = state;
            }
            catch (Exception again) when (again is not OutOfMemoryException)
            {
                // Cannot happen for a deterministic script; if it does, the batch is refused whole.
                _applied.Clear();
                return ScriptProjection.Describe(again);
            }

            return ScriptProjection.Describe(ex);
        }
    }

    /// <summary>The state as JSON after the applied events, or the error that refuses them all (not JSON, too large).</summary>
    public (string? Json, string? Error) Finish()
    {
        if (_state is null || _applied.Count == 0)
        {
            return (_start, null);
        }

        try
        {
            var json = _engine!.Serialize(_state);
            return json.Length > _projection.Limits.MaxStateBytes
                ? (null, $"the view's state would be {json.Length} bytes as JSON; at most {_projection.Limits.MaxStateBytes} are allowed")
                : (json, null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return (null, ScriptProjection.Describe(ex));
        }
    }

    public void Dispose()
    {
        if (_engine is not null)
        {
            _projection.Return(_engine);
            _engine = null;
        }
    }

    private JsValue Begin(ScriptEngine engine) => _start is null ? engine.Initial() : engine.Parse(_start);
}
