using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Reliability.Client.Infrastructure;

namespace Reliability.Tests.Infrastructure;

/// <summary>
/// Debian's Prometheus server on a free loopback port with a data folder of its own, scraping the given
/// targets every second; queried through its HTTP API. Stopped and its folder removed on dispose.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _folder;
    private readonly HttpClient _http;

    private PrometheusServer(Process process, DirectoryInfo folder, int port)
    {
        (_process, _folder) = (process, folder);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public static async Task<PrometheusServer> StartAsync(IEnumerable<string> targets, CancellationToken cancellationToken)
    {
        var binary = ProcessRunner.FindOnPath("prometheus")
            ?? throw new InvalidOperationException("Debian's prometheus is not installed (apt-get install prometheus; .ci/run installs it).");
        var folder = Directory.CreateTempSubdirectory("reliability-prometheus-");
        var config = Path.Combine(folder.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: reliability
                static_configs:
                  - targets: [{string.Join(", ", targets.Select(t => $"'{t}'"))}]
            """, cancellationToken);
        var port = FreePorts.Next();
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder.FullName,
        };
        foreach (var argument in new[]
        {
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder.FullName, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, folder, port);
        await server.WaitUntilReadyAsync(cancellationToken);
        return server;
    }

    /// <summary>The value of an instant query that answers one series, or null while it answers none.</summary>
    public async Task<double?> QueryAsync(string promql, CancellationToken cancellationToken)
    {
        var answer = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/query?query={Uri.EscapeDataString(promql)}", cancellationToken);
        if (answer.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Prometheus refused '{promql}': {answer}");
        }

        var result = answer.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0 ? null : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>Polls <paramref name="promql"/> until its value passes <paramref name="accept"/>; the last value (or null) when the time runs out.</summary>
    public async Task<double?> WaitForAsync(string promql, Func<double, bool> accept, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        double? value;
        while (!((value = await QueryAsync(promql, cancellationToken)) is { } v && accept(v)) && clock.Elapsed < timeout)
        {
            await Task.Delay(500, cancellationToken);
        }

        return value;
    }

    /// <summary>The health of each scrape target, as Prometheus sees it (url → up, down or unknown).</summary>
    public async Task<IReadOnlyDictionary<string, string>> TargetsAsync(CancellationToken cancellationToken)
    {
        var answer = await _http.GetFromJsonAsync<JsonElement>("/api/v1/targets", cancellationToken);
        return answer.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
            .ToDictionary(t => t.GetProperty("scrapeUrl").GetString()!, t => t.GetProperty("health").GetString()!);
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with code {_process.ExitCode}");
            }

            try
            {
                using var ready = await _http.GetAsync("/-/ready", cancellationToken);
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("prometheus was not ready within 30 s");
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Left in the temp folder; nothing depends on it.
        }
    }
}
