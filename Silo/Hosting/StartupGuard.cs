using System.Net.Sockets;
using Reliability.Infrastructure;

namespace Reliability.Silo.Hosting;

/// <summary>Runs the process and turns a failed start into one line on stderr and exit code 2.</summary>
public static class StartupGuard
{
    public static async Task<int> RunAsync(Func<Task> run)
    {
        try
        {
            await run();
            return 0;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"silo: {Describe(ex)}");
            return 2;
        }
    }

    public static string Describe(Exception ex)
    {
        foreach (var inner in Flatten(ex))
        {
            switch (inner)
            {
                case StartupException startup:
                    return startup.Message;
                case SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }:
                    return "a port is already in use (Http:Port, Orleans:SiloPort or Orleans:GatewayPort): " + inner.Message;
                case IOException io when io.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase):
                    return "the HTTP port is already in use (Http:Port): " + io.Message;
            }
        }

        return $"{ex.GetType().Name}: {ex.Message} (see the log above for details)";
    }

    private static IEnumerable<Exception> Flatten(Exception ex)
    {
        var pending = new Stack<Exception>([ex]);
        while (pending.TryPop(out var current))
        {
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (current.InnerException is not null)
            {
                pending.Push(current.InnerException);
            }
        }
    }
}
