using System.Globalization;
using System.Text;

namespace Reliability.Tests.Hostile;

/// <summary>One generated request: what to send, and whether the server may cut the connection (oversized on purpose).</summary>
public sealed record HostileRequest(
    int Index, string Method, string Path, IReadOnlyList<(string Name, string Value)> Headers, byte[]? Body, string? ContentType, bool Oversized)
{
    public string Describe()
    {
        var body = Body is null ? "no body" : Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 200));
        var path = Path.Length > 200 ? Path[..200] + "…" : Path;
        var headers = string.Join(", ", Headers.Select(h => $"{h.Name}: {(h.Value.Length > 60 ? h.Value[..60] + "…" : h.Value)}"));
        return $"#{Index} {Method} {path} [{headers}] ({ContentType ?? "no content type"}, {Body?.Length ?? 0} bytes) {body}";
    }
}

/// <summary>
/// Deterministic hostile traffic for every endpoint of the HTTP API: malformed and wrongly typed JSON,
/// huge bodies and headers, unicode and control characters in keys and route values, extreme numbers,
/// SQL-looking strings, missing and repeated headers, wrong methods and content types. Requests that
/// address the protected (seeded) ids are always invalid, so a correct server changes nothing for them.
/// </summary>
public sealed class HostileRequests(int seed, string adminToken, ProtectedIds protectedIds)
{
    /// <summary>Over the API's default 64 KiB body limit.</summary>
    public const int HugeBodyBytes = 100 * 1024;

    /// <summary>Over Kestrel's 32 KiB header limit.</summary>
    public const int HugeHeaderBytes = 40 * 1024;

    private static readonly string[] Strings =
    [
        "", " ", "a", "..", "../../etc/passwd", "/", "\\", "%", "%00", "%ZZ", "\0", "\u0001\u0002\u001f", "\t", "\r\n", "\u007f",
        "' OR 1=1 --", "'; DROP TABLE orleansstorage; --", "\" OR \"\"=\"", "1; SELECT pg_sleep(10)", "x' UNION SELECT password FROM pg_shadow --",
        "$(rm -rf /)", "<script>alert(1)</script>", "${jndi:ldap://x/a}", "{{7*7}}", "%s%s%s%n", "null", "undefined", "NaN", "true",
        "-1", "0", "9223372036854775808", "-9223372036854775809", "1e308", "é", "ü😀", "\u202Eevil", "\uFEFFbom", "名前", "ＡＢＣ", "e\u0301",
        "\ud800", "\udfff", "a b", "a/b", "a?b=c", "a#b", "a;b", "a,b", "*", "~", "CON", "a.", ".a",
    ];

    private static readonly string[] Numbers =
    [
        "0", "-0", "1", "-1", "1.5", "1e3", "1E400", "-1e400", "1e-400", "2147483647", "2147483648", "-2147483649",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "79228162514264337593543950335",
        "79228162514264337593543950336", "0.001", "0.0000000000000000000000000001", "123456789012345678901234567890.5",
        "NaN", "Infinity", "-Infinity", "0x10", "01", "+1", ".5", "1.", "true", "null", "\"5\"", "\"-1\"", "[]", "{}", "[1]",
    ];

    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FUZZ"];

    private static readonly string[] SafeMethods = ["GET", "PATCH", "HEAD", "OPTIONS", "TRACE", "FUZZ"];

    private static readonly string[] ContentTypes =
    [
        "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16",
        "application/jsonx", "application/json; charset=\u0001", "*/*", "", ";;;", "application/problem+json",
    ];

    private static readonly string[] SagaStatuses = ["Running", "running", "Completed", "Failed", "Compensated", "99", "-1", "Running,Failed", "None"];

    private static readonly string[] ProjectionNames = ["orders", "statements", "totals"];

    private static readonly Endpoint[] Endpoints =
    [
        new("GET", "/health/live"),
        new("GET", "/health/ready"),
        new("POST", "/api/ratelimit/check", Body: BodyKind.Check),
        new("GET", "/api/ratelimit/stats"),
        new("GET", "/api/admin/ratelimit/policies/", Admin: true),
        new("PUT", "/api/admin/ratelimit/policies/{id}", Body: BodyKind.Policy, Admin: true, Target: Target.Policy),
        new("DELETE", "/api/admin/ratelimit/policies/{id}", Admin: true, Target: Target.Policy),
        new("POST", "/api/carts/{id}/items", Body: BodyKind.CartItem, Idempotent: true, Target: Target.Cart),
        new("GET", "/api/carts/{id}", Target: Target.Cart),
        new("POST", "/api/orders", Body: BodyKind.Order, Idempotent: true),
        new("POST", "/api/transfers", Body: BodyKind.Transfer, Idempotent: true, Target: Target.AccountInBody),
        new("POST", "/api/idempotency/claims", Body: BodyKind.Claim),
        new("GET", "/api/idempotency/claims/{id}/{id}"),
        new("PUT", "/api/idempotency/claims/{id}/{id}", Body: BodyKind.CompleteClaim),
        new("DELETE", "/api/idempotency/claims/{id}/{id}"),
        new("POST", "/api/idempotency/claims/{id}/{id}/renew", Body: BodyKind.RenewClaim),
        new("GET", "/api/sagas/{id}"),
        new("GET", "/api/sagas/", Query: QueryKind.SagaList),
        new("POST", "/api/admin/sagas/{id}/retry", Admin: true),
        new("POST", "/api/admin/sagas/{id}/cancel", Body: BodyKind.Cancel, Admin: true),
        new("PUT", "/api/admin/accounts/{id}", Body: BodyKind.Account, Admin: true, Target: Target.Account),
        new("POST", "/api/admin/inventory/{id}/restock", Body: BodyKind.Restock, Admin: true, Target: Target.Sku),
        new("GET", "/api/accounts/{id}", Target: Target.Account),
        new("GET", "/api/inventory/{id}", Target: Target.Sku),
        new("GET", "/api/orders/{id}"),
        new("GET", "/api/payments/{id}"),
        new("GET", "/api/customers/{id}/orders", Query: QueryKind.View),
        new("GET", "/api/orders/{id}/summary", Query: QueryKind.View),
        new("GET", "/api/accounts/{id}/statement", Query: QueryKind.View, Target: Target.Account),
        new("GET", "/api/totals", Query: QueryKind.View),
        new("GET", "/api/projections/"),
        new("GET", "/api/projections/{name}"),
        new("POST", "/api/admin/projections/{name}/rebuild", Admin: true),
        new("POST", "/api/admin/projections/{name}/replay-parked", Admin: true),
        new("GET", "/api/admin/projections/{name}/parked", Admin: true, Query: QueryKind.Limit),
        new("GET", "/dashboard", Admin: true, Query: QueryKind.DashboardToken),
        new("GET", "/dashboard/{id}", Admin: true, Query: QueryKind.DashboardToken),
        new("GET", "/api/admin/gateway/routes", Admin: true),
        new("GET", "/api/admin/ratelimit/rls/domains/", Admin: true),
        new("PUT", "/api/admin/ratelimit/rls/domains/{id}", Body: BodyKind.Policy, Admin: true),
        new("GET", "/api/admin/ratelimit/rls/domains/{id}", Admin: true),
        new("DELETE", "/api/admin/ratelimit/rls/domains/{id}", Admin: true),
        // The gateway, in front of the demo upstream: keyed (POST, PATCH) and passed through (GET, PUT, DELETE).
        new("POST", "/shop/orders", Body: BodyKind.CartItem, Idempotent: true),
        new("POST", "/shop/{id}", Body: BodyKind.CartItem, Idempotent: true),
        new("PATCH", "/shop/orders/{id}", Body: BodyKind.CartItem, Idempotent: true),
        new("POST", "/lenient/{id}", Body: BodyKind.CartItem),
        new("GET", "/shop/{id}"),
        new("DELETE", "/lenient/orders/{id}"),
        new("GET", "/api/{id}"),
        new("GET", "/{id}"),
    ];

    private readonly Random _random = new(seed);
    private int _index;

    public int Seed => seed;

    public IReadOnlyList<HostileRequest> Generate(int count) => Enumerable.Range(0, count).Select(_ => Next()).ToList();

    private HostileRequest Next()
    {
        var endpoint = Pick(Endpoints);
        var headers = new List<(string, string)>();
        var oversized = false;

        // A request that addresses a protected id must be invalid in a way that stops it before any effect.
        var addressesProtected = endpoint.Target != Target.None && Chance(0.1);
        var spoiled = false;

        var method = endpoint.Method;
        if (Chance(0.12))
        {
            // Another method may map to another endpoint on the same path (PUT and DELETE of a policy): never a mutating one on a protected id.
            method = Pick(addressesProtected ? SafeMethods : Methods);
            spoiled |= method != endpoint.Method;
        }

        var path = endpoint.Template
            .Replace("{id}", RouteValue(addressesProtected ? ProtectedRouteValue(endpoint.Target) : null), StringComparison.Ordinal)
            .Replace("{name}", RouteValue(ProjectionName(endpoint)), StringComparison.Ordinal);
        path += Query(endpoint.Query);

        headers.AddRange(ApiKeyHeaders());
        if (endpoint.Admin || Chance(0.05))
        {
            var (authorization, valid) = Authorization();
            if (authorization is not null)
            {
                headers.Add(("Authorization", authorization));
            }

            spoiled |= endpoint.Admin && !valid;
        }

        if (addressesProtected && !spoiled && endpoint.Body == BodyKind.None && endpoint.Method != "GET")
        {
            // Nothing else makes this request invalid: a body-less DELETE of a protected policy must not be allowed through.
            method = "PATCH";
        }

        if (endpoint.Idempotent || Chance(0.03))
        {
            headers.AddRange(IdempotencyHeaders());
        }

        if (Chance(0.02))
        {
            headers.Add(("X-Fuzz-Padding", new string('h', HugeHeaderBytes)));
            oversized = true;
        }

        if (Chance(0.05))
        {
            headers.Add((Pick(["Accept", "Accept-Encoding", "Content-Encoding", "Expect", "X-Forwarded-For", "Host-Override", "Cookie", "Range"]),
                Pick(["gzip", "*/*", "chunked, gzip", "100-continue", "999.999.999.999", "bytes=-1", "token=x; token=y", "dashboard-access=00; dashboard-access=", "\u0001", new string('v', 2000)])));
        }

        byte[]? body = null;
        string? contentType = null;
        if (endpoint.Body != BodyKind.None || Chance(0.05))
        {
            var mustBeInvalid = addressesProtected && !spoiled;
            (body, contentType, var hugeBody) = Body(endpoint.Body, mustBeInvalid, endpoint.Target == Target.AccountInBody && addressesProtected
                ? protectedIds.Account
                : null);
            oversized |= hugeBody;
        }

        return new HostileRequest(_index++, method, path, headers, body, contentType, oversized);
    }

    private string ProtectedRouteValue(Target target) => target switch
    {
        Target.Cart => protectedIds.Cart,
        Target.Account => protectedIds.Account,
        Target.Sku => protectedIds.Sku,
        Target.Policy => protectedIds.Policy,
        _ => Id(),
    };

    private string ProjectionName(Endpoint endpoint) =>
        !endpoint.Admin && Chance(0.3) ? Pick(ProjectionNames) : Chance(0.5) ? Hostile() : Pick(ProjectionNames).ToUpperInvariant() + Pick(["", " ", "\0", "s", "/"]);

    /// <summary>A route value percent-encoded as UTF-8 (a lone surrogate becomes U+FFFD), sometimes with raw or broken escapes.</summary>
    private string RouteValue(string? value)
    {
        value ??= Chance(0.4) ? Id() : Hostile();
        if (Chance(0.1))
        {
            return Pick(["%FF%FE", "%C0%AF", "%E2%80", "%2F..%2F", "%252F", "..%5C", "%00", "a%20b", "%", "%%"]) + (Chance(0.5) ? Id() : "");
        }

        var encoded = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                encoded.Append((char)b);
            }
            else
            {
                encoded.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
            }
        }

        return encoded.Length == 0 ? "%20" : encoded.ToString();
    }

    private string Query(QueryKind kind)
    {
        var parts = new List<string>();
        switch (kind)
        {
            case QueryKind.SagaList:
                if (Chance(0.6))
                {
                    parts.Add("status=" + Uri.EscapeDataString(Chance(0.5) ? Pick(SagaStatuses) : Safe(Hostile())));
                }

                if (Chance(0.6))
                {
                    parts.Add("limit=" + Uri.EscapeDataString(Pick(Numbers)));
                }

                break;
            case QueryKind.View:
                if (Chance(0.6))
                {
                    // A well-formed token the views never reach would hold the request for the default wait: always say how long to wait.
                    parts.Add("after=" + Uri.EscapeDataString(Pick(["orders:1", "accounts:999999999999", "orders:-1", "orders:", ":5", "x:1", "orders:1,orders:2",
                        string.Join(',', Enumerable.Repeat("orders:1", 40)), "orders:99999999999999999999", "orders:1e5", Safe(Hostile())])));
                    parts.Add("wait=" + Uri.EscapeDataString(Pick(["0", "0.05", "-1", "31", "1e9", "NaN", "Infinity", "abc", "", "99999999999999999999999"])));
                }
                else if (Chance(0.5))
                {
                    parts.Add("wait=" + Uri.EscapeDataString(Pick(["0", "0.1", "-1", "31", "1e9", "NaN", "abc", "", Pick(Numbers)])));
                }

                break;
            case QueryKind.DashboardToken:
                if (Chance(0.5))
                {
                    parts.Add("token=" + Uri.EscapeDataString(Pick([adminToken, "wrong", "", adminToken + adminToken, Safe(Hostile())])));
                }

                if (Chance(0.1))
                {
                    parts.Add("token=" + Uri.EscapeDataString(adminToken));
                }

                break;
            case QueryKind.Limit:
                if (Chance(0.7))
                {
                    parts.Add("limit=" + Uri.EscapeDataString(Pick(Numbers)));
                }

                break;
        }

        if (Chance(0.05))
        {
            parts.Add(Pick(["a=1&a=2", "limit=1&limit=2", "%00=%00", "=", "&&&", "x=" + new string('q', 3000)]));
        }

        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    private IEnumerable<(string, string)> ApiKeyHeaders()
    {
        // Mostly a fresh key each, so that the API's per-caller limit lets the traffic through to the endpoints.
        var roll = _random.NextDouble();
        if (roll < 0.85)
        {
            return [("X-Api-Key", $"fuzz-{seed}-{_index}")];
        }

        return roll switch
        {
            < 0.88 => [],
            < 0.91 => [("X-Api-Key", "")],
            < 0.94 => [("X-Api-Key", $"fuzz-a-{_index}"), ("X-Api-Key", $"fuzz-b-{_index}")],
            < 0.97 => [("X-Api-Key", new string(Chance(0.5) ? 'k' : '{', Pick([200, 8000])) + _index)],
            _ => [("X-Api-Key", Safe(Hostile()) + _index)],
        };
    }

    private (string? Value, bool Valid) Authorization() => _random.Next(10) switch
    {
        < 6 => ($"Bearer {adminToken}", true),
        6 => (null, false),
        7 => (Pick(["Bearer wrong", "Bearer ", "Bearer", "Basic dGVzdDp0ZXN0", $"bearer  {adminToken}x", $"Bearer {adminToken}\u0001"]), false),
        8 => ($"Bearer {Safe(Hostile())}", false),
        _ => ($"Bearer {new string('t', 5000)}", false),
    };

    private IEnumerable<(string, string)> IdempotencyHeaders() => _random.Next(12) switch
    {
        < 6 => [("Idempotency-Key", $"fuzz-key-{seed}-{_index}")],
        6 => [],
        7 => [("Idempotency-Key", $"fuzz-shared-{_random.Next(4)}"), ("Prefer", Pick(["wait=1", "wait=abc", "wait=-5", "wait=1e9", "wait=0.2", "wait=", "wait=NaN"]))],
        8 => [("Idempotency-Key", "a"), ("Idempotency-Key", "b")],
        9 => [("Idempotency-Key", Chance(0.5) ? new string('k', Pick([255, 256, 4000])) : Braces(Pick([254, 255, 256])))],
        10 => [("Idempotency-Key", Safe(Hostile()))],
        _ => [("Idempotency-Key", "")],
    };

    private (byte[] Body, string? ContentType, bool Huge) Body(BodyKind kind, bool mustBeInvalid, string? protectedAccount)
    {
        var contentType = Chance(0.85) ? "application/json" : Pick(ContentTypes);
        if (Chance(0.03))
        {
            var padding = new string('p', HugeBodyBytes);
            return (Encoding.UTF8.GetBytes($$"""{"padding":"{{padding}}"}"""), "application/json", true);
        }

        var json = Json(kind, protectedAccount);
        if (mustBeInvalid)
        {
            json = _random.Next(5) switch
            {
                0 => json[..Math.Max(1, _random.Next(json.Length))],
                1 => json.Length > 2 ? json[..^1] + ",\"unexpectedField\":1}" : """{"unexpectedField":1}""",
                2 => Pick(["null", "[]", "\"\"", "42", "{\"quantity\":", "{"]),
                3 => json + Pick(["}", "]", " x", "{}"]),
                _ => "{\"sku\":\u0001}",
            };
            return (Encoding.UTF8.GetBytes(json), "application/json", false);
        }

        if (Chance(0.35))
        {
            json = Mutate(json);
        }

        var bytes = Encoding.UTF8.GetBytes(json);
        if (Chance(0.03))
        {
            bytes = [.. bytes.Take(bytes.Length / 2), 0xFF, 0xFE, 0xC0, .. bytes.Skip(bytes.Length / 2)];
        }
        else if (Chance(0.02))
        {
            bytes = [0xEF, 0xBB, 0xBF, .. bytes];
        }

        return (bytes, contentType, false);
    }

    private string Mutate(string json) => _random.Next(12) switch
    {
        0 => json[.._random.Next(json.Length)],
        1 => json + Pick(["}", "]", " x", "{}", ",", "\0"]),
        2 => json.Length > 2 ? json[..^1] + ",\"unexpectedField\":" + Pick(Numbers) + "}" : json,
        3 => $"[{json}]",
        4 => Pick(["", "null", "[]", "\"\"", "0", "true", "{}", "{\"\":1}", "{'sku':'a'}", "{sku:1}", "/* c */ {}", "{,}", "{\"a\":1,}"]),
        5 => new string('[', 5000) + new string(']', 5000),
        6 => string.Concat(Enumerable.Repeat("{\"a\":", 2000)) + "1" + new string('}', 2000),
        7 => json.Replace("\"", "'", StringComparison.Ordinal),
        8 => json.Length > 2 ? json[..^1] + "," + json[1..] : json,
        9 => "{\"" + new string('f', 70_000 / 2) + "\":1}",
        10 => json.Replace(":", ": \u0001", StringComparison.Ordinal),
        _ => Encoding.UTF8.GetString(Enumerable.Range(0, _random.Next(1, 200)).Select(_ => (byte)_random.Next(256)).ToArray()),
    };

    private string Json(BodyKind kind, string? protectedAccount)
    {
        var fields = kind switch
        {
            BodyKind.Check => [("subject", Field.Text), ("policy", Field.PolicyName), ("policies", Field.Names), ("cost", Field.Integer)],
            BodyKind.Policy => [("algorithm", Field.Algorithm), ("limit", Field.Integer), ("period", Field.Duration), ("rate", Field.Integer), ("defaultCost", Field.Integer), ("shadow", Field.Flag)],
            BodyKind.CartItem => [("sku", Field.Id), ("quantity", Field.Integer)],
            BodyKind.Order => [("customerId", Field.Id), ("items", Field.Items)],
            BodyKind.Transfer => [("from", Field.Id), ("to", Field.Id), ("amount", Field.Money)],
            BodyKind.Account => [("balance", Field.Money)],
            BodyKind.Restock => [("quantity", Field.Integer), ("unitPrice", Field.Money)],
            BodyKind.Cancel => [("reason", Field.Text)],
            BodyKind.Claim => [("scope", Field.Id), ("key", Field.Text), ("fingerprint", Field.Text), ("lease", Field.Duration)],
            BodyKind.CompleteClaim => [("token", Field.Text), ("response", Field.Text)],
            BodyKind.RenewClaim => [("token", Field.Text), ("lease", Field.Duration)],
            _ => new (string, Field)[] { (Safe(Hostile()), Field.Text) },
        };

        var members = new List<string>();
        foreach (var (name, field) in fields)
        {
            if (Chance(0.1))
            {
                continue;
            }

            var value = protectedAccount is not null && name == "from"
                ? $"\"{protectedAccount}\""
                : Value(field);
            members.Add($"\"{name}\":{value}");
        }

        return "{" + string.Join(',', members) + "}";
    }

    private string Value(Field field)
    {
        if (Chance(0.25))
        {
            return Chance(0.5) ? Pick(Numbers) : JsonString(Hostile());
        }

        return field switch
        {
            Field.Id => JsonString(Id()),
            Field.Text => JsonString(Chance(0.5) ? Id() : Hostile()),
            Field.PolicyName => JsonString(Chance(0.5) ? "fuzz-policy-" + _random.Next(8) : Hostile()),
            Field.Names => "[" + string.Join(',', Enumerable.Range(0, _random.Next(0, 12)).Select(_ => JsonString(Chance(0.5) ? "fuzz-policy-" + _random.Next(8) : Hostile()))) + "]",
            Field.Integer => Chance(0.5) ? _random.Next(1, 10).ToString(CultureInfo.InvariantCulture) : Pick(Numbers),
            Field.Money => Chance(0.5) ? Pick(["1", "12.34", "0.01", "1000000"]) : Pick(Numbers),
            Field.Duration => JsonString(Pick(["1s", "500ms", "5m", "1h", "1d", "0s", "-1s", "99999999999d", "1y", "1.5s", "s", "", "1e9s", "9223372036854775807ms"])),
            Field.Algorithm => JsonString(Pick(["token-bucket", "fixed-window", "sliding-window", "leaky-bucket", "TOKEN-BUCKET", "gcra", "", "token_bucket"])),
            Field.Flag => Pick(["true", "false", "\"true\"", "1", "null"]),
            Field.Items => "[" + string.Join(',', Enumerable.Range(0, _random.Next(0, 25)).Select(_ =>
                $$"""{"sku":{{JsonString(Chance(0.7) ? Id() : Hostile())}},"quantity":{{(Chance(0.6) ? _random.Next(1, 5).ToString(CultureInfo.InvariantCulture) : Pick(Numbers))}}}""")) + "]",
            _ => "null",
        };
    }

    /// <summary>A JSON string literal that escapes everything outside printable ASCII, so lone surrogates reach the server as \uD800.</summary>
    private static string JsonString(string value)
    {
        var json = new StringBuilder("\"");
        foreach (var c in value)
        {
            if (c is '"' or '\\')
            {
                json.Append('\\').Append(c);
            }
            else if (c < 0x20 || c > 0x7e)
            {
                json.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                json.Append(c);
            }
        }

        return json.Append('"').ToString();
    }

    /// <summary>A fresh, valid-looking id: requests with it may legitimately create things, never touch a protected one.</summary>
    private string Id() => "fz" + _random.Next().ToString("x", CultureInfo.InvariantCulture) + new string('a', _random.Next(0, 3) == 0 ? 60 : 0);

    private string Hostile()
    {
        var value = Pick(Strings);
        return _random.Next(10) switch
        {
            0 => value + new string('x', Pick([65, 257, 1000, 5000])),
            1 => value + Id(),
            2 => Braces(Pick([1, 64, 128, 255, 256, 257])),
            _ => value,
        };
    }

    /// <summary>Brace-heavy text, which the storage's key escaping doubles: it must still fit, or be refused with 400.</summary>
    private string Braces(int length) => string.Concat(Enumerable.Range(0, length).Select(_ => Pick(['{', '}', '{', 'x'])));

    /// <summary>Header values the client can send at all: no CR, LF or NUL, and lone surrogates replaced.</summary>
    private static string Safe(string value) =>
        new(value.Select(c => c is '\r' or '\n' or '\0' || char.IsSurrogate(c) ? '?' : c).ToArray());

    private bool Chance(double p) => _random.NextDouble() < p;

    private T Pick<T>(IReadOnlyList<T> values) => values[_random.Next(values.Count)];

    private sealed record Endpoint(string Method, string Template, BodyKind Body = BodyKind.None, bool Admin = false, bool Idempotent = false,
        QueryKind Query = QueryKind.None, Target Target = Target.None);

    private enum BodyKind { None, Check, Policy, CartItem, Order, Transfer, Account, Restock, Cancel, Claim, CompleteClaim, RenewClaim }

    private enum QueryKind { None, SagaList, View, Limit, DashboardToken }

    private enum Target { None, Cart, Account, Sku, Policy, AccountInBody }

    private enum Field { Id, Text, PolicyName, Names, Integer, Money, Duration, Algorithm, Flag, Items }
}

/// <summary>The seeded entities that no fuzzed request may change.</summary>
public sealed record ProtectedIds(string Cart, string Account, string Sku, string Policy);
