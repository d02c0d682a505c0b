using System.Runtime.InteropServices;

namespace Reliability.Client.Bench;

/// <summary>A one-line description of the machine a benchmark ran on, for docs/benchmarks.md.</summary>
public static class MachineInfo
{
    public static string Describe()
    {
        var cpu = ReadFirst("/proc/cpuinfo", "model name")?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memoryKb = ReadFirst("/proc/meminfo", "MemTotal")?.Split(':', 2)[1].Trim().Split(' ')[0];
        var memory = long.TryParse(memoryKb, out var kb) ? $"{kb / 1024.0 / 1024.0:0} GiB" : "?";
        return $"{Environment.ProcessorCount} cores ({cpu}), {memory} RAM, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    private static string? ReadFirst(string file, string prefix) =>
        File.Exists(file) ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) : null;
}
