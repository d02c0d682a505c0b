using System.Diagnostics;
using Reliability.Client.Infrastructure;
using StackExchange.Redis;

namespace Reliability.Client.Bench;

/// <summary>A throw-away redis-server (no persistence, loopback only) for the reference measurement.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, ConnectionMultiplexer connection)
    {
        _process = process;
        Connection = connection;
    }

    public ConnectionMultiplexer Connection { get; }

    /// <summary>Null, with the reason, when no redis-server is installed.</summary>
    public static async Task<(RedisServer? Server, string? Missing)> TryStartAsync()
    {
        var binary = ProcessRunner.FindOnPath("redis-server");
        if (binary is null)
        {
            return (null, "redis-server is not installed (Debian: apt-get install redis-server)");
        }

        var port = FreePorts.Next();
        var start = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},abortConnect=false,connectTimeout=1000");
                await connection.GetDatabase().PingAsync();
                return (new RedisServer(process, connection), null);
            }
            catch (RedisConnectionException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
