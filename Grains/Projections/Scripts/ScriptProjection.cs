using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using Jint;
using Jint.Native;
using Jint.Native.Json;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Reliability.Projections.Scripts;

/// <summary>What a script may use, per call into it (one partitionBy or one handler), and in all.</summary>
public sealed record ScriptLimits
{
    /// <summary>Statements one call may run: an endless loop stops here, in a few milliseconds.</summary>
    public int MaxStatements { get; init; } = 20_000;

    /// <summary>Wall-clock time one call may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Bytes one call may allocate (measured on its thread, interpreter included).</summary>
    public long MaxMemoryBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>Nested calls one call may make.</summary>
    public int MaxRecursion { get; init; } = 64;

    /// <summary>A view's state as JSON may not grow past this.</summary>
    public int MaxStateBytes { get; init; } = 256 * 1024;

    /// <summary>A script's source may not be longer than this.</summary>
    public int MaxSourceChars { get; init; } = 64 * 1024;

    public static ScriptLimits Default { get; } = new();
}

/// <summary>A script was refused at registration: where, and why.</summary>
public sealed class ScriptDefinitionException(string message) : Exception(message);

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

/// <summary>One sandboxed engine with the script loaded: its partition function and its handlers.</summary>
internal sealed class ScriptEngine
{
    private readonly Engine _engine;
    private readonly JsValue _partitionBy;
    private readonly Dictionary<string, JsValue> _handlers = new(StringComparer.Ordinal);
    private readonly JsValue _init;
    private readonly JsValue _any;
    private readonly JsonParser _parser;
    private readonly JsonSerializer _serializer;

    public ScriptEngine(Engine engine, Prepared<Acornima.Ast.Script> prelude, Prepared<Acornima.Ast.Script> script)
    {
        _engine = engine;
        _parser = new JsonParser(engine);
        _serializer = new JsonSerializer(engine);
        engine.Execute(prelude);
        try
        {
            engine.Execute(script);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new ScriptDefinitionException($"script: {ScriptProjection.Describe(ex)}");
        }

        var definition = engine.GetValue("__projection");
        if (definition.IsNull() || definition.IsUndefined())
        {
            throw new ScriptDefinitionException("script: it defines no projection; start it with fromStores(['store', …]).");
        }

        var stores = definition.Get("stores");
        if (!stores.IsArray() || stores.AsArray().Length == 0)
        {
            throw new ScriptDefinitionException("script: fromStores takes one store name or a non-empty array of them.");
        }

        var names = ImmutableArray.CreateBuilder<string>();
        foreach (var store in stores.AsArray())
        {
            if (!store.IsString())
            {
                throw new ScriptDefinitionException("script: fromStores takes store names (strings).");
            }

            names.Add(store.AsString());
        }

        Stores = [.. names.Distinct(StringComparer.Ordinal)];
        _partitionBy = definition.Get("partitionBy");
        Partitioned = !_partitionBy.IsNull() && !_partitionBy.IsUndefined();
        var handlers = definition.Get("handlers");
        if (!handlers.IsObject())
        {
            throw new ScriptDefinitionException("script: it has no handlers; add .when({ EventType: (state, event) => state }).");
        }

        var handles = ImmutableArray.CreateBuilder<string>();
        foreach (var property in handlers.AsObject().GetOwnPropertyKeys())
        {
            var type = property.ToString();
            var handler = handlers.Get(property);
            if (handler is not Jint.Native.Function.Function)
            {
                throw new ScriptDefinitionException($"script: the handler for '{type}' is not a function.");
            }

            if (type != "$init")
            {
                handles.Add(type);
            }

            _handlers[type] = handler;
        }

        _init = _handlers.GetValueOrDefault("$init") ?? JsValue.Undefined;
        _any = _handlers.GetValueOrDefault("$any") ?? JsValue.Undefined;
        _handlers.Remove("$init");
        _handlers.Remove("$any");
        if (handles.Count == 0)
        {
            throw new ScriptDefinitionException("script: when({...}) names no event type; add at least one handler (or $any).");
        }

        Handles = handles.ToImmutable();
    }

    public ImmutableArray<string> Stores { get; }

    public bool Partitioned { get; }

    public ImmutableArray<string> Handles { get; }

    public string? Route(ProjectedEvent e)
    {
        if (!_handlers.ContainsKey(e.Type) && _any.IsUndefined())
        {
            return null;
        }

        var key = Call(_partitionBy, ToJs(e));
        if (key.IsNull() || key.IsUndefined())
        {
            return null;
        }

        var text = key.IsString() ? key.AsString()
            : key.IsNumber() ? key.AsNumber().ToString(CultureInfo.InvariantCulture)
            : throw new InvalidDataException($"partitionBy gave a {key.Type}; it must give a string or a number (or null to skip the event).");
        return text.Length is > 0 and <= ScriptProjection.MaxKeyLength
            ? text
            : throw new InvalidDataException($"partitionBy gave a key of {text.Length} characters; keys have 1 to {ScriptProjection.MaxKeyLength}.");
    }

    /// <summary>The initial state: <c>$init()</c>, or an empty object.</summary>
    public JsValue Initial() => _init.IsUndefined() ? new Jint.Native.JsObject(_engine) : Call(_init);

    public JsValue Parse(string json) => _parser.Parse(json);

    public string Serialize(JsValue state)
    {
        var json = _serializer.Serialize(state, JsValue.Undefined, JsValue.Undefined);
        return json.IsString() ? json.AsString() : throw new InvalidDataException("the state is not JSON (a handler returned undefined, a function or a symbol)");
    }

    /// <summary>Applies one event: its handler's answer, or the state it changed in place when it answers nothing.</summary>
    public JsValue Apply(JsValue state, ProjectedEvent e)
    {
        var handler = _handlers.GetValueOrDefault(e.Type) ?? _any;
        if (handler.IsUndefined())
        {
            return state;
        }

        var result = Call(handler, state, ToJs(e));
        return result.IsUndefined() ? state : result;
    }

    private JsValue Call(JsValue function, params JsValue[] arguments)
    {
        _engine.Constraints.Reset();
        return _engine.Call(function, JsValue.Undefined, arguments);
    }

    /// <summary>
    /// The event as the script sees it. Its <c>data</c> is parsed when the script first reads it, so a
    /// <c>partitionBy</c> that looks only at the stream or the type costs no parse.
    /// </summary>
    private JsValue ToJs(ProjectedEvent e)
    {
        var o = new JsObject(_engine);
        o.FastSetDataProperty("store", e.Store);
        o.FastSetDataProperty("stream", e.StreamId);
        o.FastSetDataProperty("type", e.Type);
        o.FastSetDataProperty("version", e.Version);
        o.FastSetDataProperty("position", e.Position);
        o.FastSetDataProperty("recordedAt", e.RecordedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        JsValue? data = null;
        var get = new ClrFunction(_engine, "data", (_, _) => data ??= string.IsNullOrEmpty(e.Payload) ? JsValue.Null : _parser.Parse(e.Payload));
        var set = new ClrFunction(_engine, "data", (_, arguments) => data = arguments.Length > 0 ? arguments[0] : JsValue.Undefined);
        o.FastSetProperty("data", new GetSetPropertyDescriptor(get, set, enumerable: true, configurable: true));
        return o;
    }
}
