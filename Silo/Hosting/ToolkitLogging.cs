namespace Reliability.Silo.Hosting;

public static class ToolkitLogging
{
    /// <summary>
    /// Structured console logs: one JSON object per line by default (<c>Logging:Format=json</c>), or
    /// single-line text with <c>Logging:Format=simple</c>. Levels come from the <c>Logging</c> section.
    /// </summary>
    public static ILoggingBuilder AddToolkitLogging(this ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.ClearProviders();
        logging.AddConfiguration(configuration.GetSection("Logging"));
        // A log written inside a trace carries its trace and span ids (as a scope).
        logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (string.Equals(configuration["Logging:Format"], "simple", StringComparison.OrdinalIgnoreCase))
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.IncludeScopes = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }
        else
        {
            logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.IncludeScopes = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }

        return logging;
    }
}
