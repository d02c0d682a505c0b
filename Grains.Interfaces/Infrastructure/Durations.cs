using System.Globalization;

namespace Reliability;

/// <summary>Durations as people write them: <c>250ms</c>, <c>1s</c>, <c>1.5m</c>, <c>2h</c>, <c>1d</c>.</summary>
public static class Durations
{
    private static readonly (string Unit, TimeSpan Size)[] Units =
    [
        ("ms", TimeSpan.FromMilliseconds(1)), ("s", TimeSpan.FromSeconds(1)), ("m", TimeSpan.FromMinutes(1)),
        ("h", TimeSpan.FromHours(1)), ("d", TimeSpan.FromDays(1)),
    ];

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        foreach (var (unit, size) in Units.OrderByDescending(u => u.Unit.Length))
        {
            if (text.EndsWith(unit, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^unit.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
                && double.IsFinite(amount) && amount >= 0 && amount * size.Ticks < TimeSpan.MaxValue.Ticks)
            {
                duration = TimeSpan.FromTicks((long)Math.Round(amount * size.Ticks));
                return true;
            }
        }

        return false;
    }

    public static string Format(TimeSpan duration)
    {
        foreach (var (unit, size) in Units.Reverse())
        {
            if (duration >= size && duration.Ticks % size.Ticks == 0)
            {
                return $"{duration.Ticks / size.Ticks}{unit}";
            }
        }

        return $"{duration.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)}ms";
    }
}
