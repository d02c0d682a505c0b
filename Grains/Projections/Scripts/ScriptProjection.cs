using System.Collections.Concurrent;
using System.Collections.Immutable;
using Jint;
using Jint.Runtime;

namespace Reliability.Projections.Scripts;

/// <summary>
/// One version of a JavaScript projection, compiled once and run in sandboxed engines (a small pool, since
/// an engine runs one call at a time). The script has the shape people know from KurrentDB:
/// <code>
/// fromStores(['orders', 'payments'])
///   .partitionBy(e => e.data.customerId)
///   .when({ $init: () => ({ orders: 0 }), OrderPlaced: (s, e) => { s.orders++; return s; } });
/// </code>
/// An engine has no access to the CLR, the host, files or the network (Jint exposes none unless asked),
/// and every call into the script runs under <see cref="ScriptLimits"/>.
/// </summary>
public sealed class ScriptProjection
{
    /// <summary>The key of the one view of a projection without <c>partitionBy</c>.</summary>
    public const string SingleKey = "all";

    public const int MaxKeyLength = 200;

    private const string Prelude =
        """
        var __projection = null;
        function fromStores(stores) {
          if (__projection !== null) throw new Error('a script defines one projection: call fromStores once');
          if (!Array.isArray(stores)) stores = [stores];
          var d = { stores: stores, partitionBy: null, handlers: null };
          __projection = d;
          var b = {
            partitionBy: function (f) { if (typeof f !== 'function') throw new TypeError('partitionBy takes a function of the event'); d.partitionBy = f; return b; },
            when: function (h) { if (h === null || typeof h !== 'object') throw new TypeError('when takes an object of handlers by event type'); d.handlers = h; return b; }
          };
          return b;
        }
        var fromStore = fromStores;
        """;

    private readonly Prepared<Acornima.Ast.Script> _prelude;
    private readonly Prepared<Acornima.Ast.Script> _script;
    private readonly ConcurrentBag<ScriptEngine> _pool = [];

    private ScriptProjection(string name, int version, string source, ScriptLimits limits, Prepared<Acornima.Ast.Script> prelude, Prepared<Acornima.Ast.Script> script)
    {
        Name = name;
        Version = version;
        Source = source;
        Limits = limits;
        _prelude = prelude;
        _script = script;
    }

    public string Name { get; }

    public int Version { get; }

    public string Source { get; }

    public ScriptLimits Limits { get; }

    public ImmutableArray<string> Stores { get; private set; } = [];

    public bool Partitioned { get; private set; }

    /// <summary>The event types the script handles (<c>$any</c> when it takes every type).</summary>
    public ImmutableArray<string> Handles { get; private set; } = [];

    /// <summary>
    /// Compiles and runs the script once, to read what it defines; throws <see cref="ScriptDefinitionException"/>
    /// naming the line for a syntax error, a script that throws, or one that defines no projection.
    /// </summary>
    public static ScriptProjection Compile(string name, int version, string source, ScriptLimits? limits = null)
    {
        limits ??= ScriptLimits.Default;
        if (string.IsNullOrWhiteSpace(source))
        {
            throw new ScriptDefinitionException("script: it is empty.");
        }

        if (source.Length > limits.MaxSourceChars)
        {
            throw new ScriptDefinitionException($"script: it is {source.Length} characters long; at most {limits.MaxSourceChars} are allowed.");
        }

        Prepared<Acornima.Ast.Script> script;
        try
        {
            script = Engine.PrepareScript(source, source: "script", strict: true);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new ScriptDefinitionException($"script: does not parse: {ex.Message}");
        }

        var projection = new ScriptProjection(name, version, source, limits, Engine.PrepareScript(Prelude, source: "prelude"), script);
        var engine = projection.CreateEngine();
        projection.Stores = engine.Stores;
        projection.Partitioned = engine.Partitioned;
        projection.Handles = engine.Handles;
        projection._pool.Add(engine);
        return projection;
    }

    /// <summary>The view key of an event, or null when the projection ignores it (partitionBy gave null or undefined).</summary>
    public string? Route(ProjectedEvent e)
    {
        if (!Partitioned)
        {
            return Handles.Contains("$any") || Handles.Contains(e.Type) ? SingleKey : null;
        }

        var engine = Rent();
        try
        {
            return engine.Route(e);
        }
        finally
        {
            _pool.Add(engine);
        }
    }

    /// <summary>Starts folding a batch of one view's events over its stored state (null: not yet created).</summary>
    public ScriptFold Fold(string? stateJson) => new(this, stateJson);

    internal ScriptEngine Rent() => _pool.TryTake(out var engine) ? engine : CreateEngine();

    internal void Return(ScriptEngine engine)
    {
        if (_pool.Count < Environment.ProcessorCount * 4)
        {
            _pool.Add(engine);
        }
    }

    private ScriptEngine CreateEngine()
    {
        var engine = new Engine(options => options
            .Strict()
            .MaxStatements(Limits.MaxStatements)
            .TimeoutInterval(Limits.Timeout)
            .LimitMemory(Limits.MaxMemoryBytes)
            .LimitRecursion(Limits.MaxRecursion));
        return new ScriptEngine(engine, _prelude, _script);
    }

    /// <summary>What went wrong inside a script call, with the script's line where it has one.</summary>
    internal static string Describe(Exception ex) => ex switch
    {
        JavaScriptException js => $"script error at line {js.Location.Start.Line}: {js.Message}",
        StatementsCountOverflowException => "script stopped: it ran more statements than one call may (an endless loop?)",
        MemoryLimitExceededException => "script stopped: it allocated more memory than one call may",
        RecursionDepthOverflowException => "script stopped: it nested calls deeper than one call may",
        TimeoutException => "script stopped: it ran longer than one call may",
        ExecutionCanceledException => "script stopped: it ran longer than one call may",
        JintException jint => $"script error: {jint.Message}",
        _ => $"script error: {ex.GetType().Name}: {ex.Message}",
    };
}
