using System.Globalization;
using Reliability.Client.Infrastructure;

namespace Reliability.Client.Observability;

/// <summary>One sample of Prometheus' text format: a series (name and labels) and its value.</summary>
public sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    /// <summary>The labels as Prometheus writes them, without OpenTelemetry's scope labels.</summary>
    public string LabelText => string.Join(",", Labels.Where(l => !l.Key.StartsWith("otel_scope", StringComparison.Ordinal)).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\""));
}

/// <summary>
/// The silos' <c>/metrics</c>, read the way Prometheus reads them, and summed across silos: what the
/// <c>metrics</c> command and the tour show.
/// </summary>
public static class SiloMetrics
{
    /// <summary>Every silo's scrape, summed per series (a gauge reported by every silo is summed too: see docs/observability.md).</summary>
    public static async Task<IReadOnlyList<MetricSample>> ScrapeAsync(ApiClient api, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        var sums = new Dictionary<(string Name, string Labels), MetricSample>();
        for (var silo = 0; silo < api.SiloCount; silo++)
        {
            using var response = await api.SendAsync(HttpMethod.Get, silo, "/metrics", headers: headers, cancellationToken: cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new CommandException($"{api.UrlOf(silo)}/metrics answered {(int)response.StatusCode}: from another host it needs the admin token (--admin-token or $RELIABILITY_ADMIN_TOKEN), and Telemetry:Prometheus must be on.");
            }

            foreach (var sample in Parse(await response.Content.ReadAsStringAsync(cancellationToken)))
            {
                var key = (sample.Name, sample.LabelText);
                sums[key] = sums.TryGetValue(key, out var sum) ? sum with { Value = sum.Value + sample.Value } : sample;
            }
        }

        return [.. sums.Values];
    }

    /// <summary>The samples of one scrape in Prometheus' text exposition format (comments skipped).</summary>
    public static IEnumerable<MetricSample> Parse(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.LastIndexOf(' ');
            string name;
            string rest;
            if (brace >= 0 && brace < space)
            {
                var close = line.LastIndexOf('}');
                name = line[..brace];
                ReadLabels(line[(brace + 1)..close], labels);
                rest = line[(close + 1)..].Trim();
            }
            else
            {
                var first = line.IndexOf(' ', StringComparison.Ordinal);
                name = line[..first];
                rest = line[(first + 1)..].Trim();
            }

            // The value, then an optional timestamp.
            var value = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                yield return new MetricSample(name, labels, number);
            }
        }
    }

    private static void ReadLabels(string text, Dictionary<string, string> labels)
    {
        var i = 0;
        while (i < text.Length)
        {
            var equals = text.IndexOf('=', i);
            if (equals < 0)
            {
                return;
            }

            var key = text[i..equals].Trim().TrimStart(',').Trim();
            var value = new System.Text.StringBuilder();
            var j = equals + 2;
            for (; j < text.Length && text[j] != '"'; j++)
            {
                value.Append(text[j] == '\\' && j + 1 < text.Length ? text[++j] switch { 'n' => '\n', var c => c } : text[j]);
            }

            labels[key] = value.ToString();
            i = j + 1;
        }
    }
}
