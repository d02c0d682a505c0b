using System.Collections.Immutable;
using System.Globalization;
using Jint;
using Jint.Native;
using Jint.Native.Json;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace Reliability.Projections.Scripts;

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
