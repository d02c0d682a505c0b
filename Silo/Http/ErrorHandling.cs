using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Reliability.Silo.Http;

/// <summary>
/// Every error response is a problem document: unknown routes and methods (404, 405), and unhandled
/// exceptions — 503 with Retry-After when the cluster or its database is unavailable for a moment,
/// 500 otherwise — never with a stack trace.
/// </summary>
public static class ErrorHandling
{
    public static IServiceCollection AddToolkitProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Type ??= Problems.TypePrefix + (c.ProblemDetails.Status switch
            {
                404 => "not-found",
                405 => "method-not-allowed",
                503 => "unavailable",
                _ => "error",
            });
            c.ProblemDetails.Extensions.Remove("traceId");
        });
        services.AddExceptionHandler<BadRequestHandler>();
        services.AddExceptionHandler<UnavailableHandler>();
        return services;
    }

    public static WebApplication UseToolkitProblems(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>
    /// Failures that pass: a silo or the database down, a call that timed out. A database error that says
    /// what it is (an SQL state) counts only if that state is a transient one (a connection lost, the server
    /// shutting down or starting, too many connections); any other (a value too long, a constraint) is a bug
    /// that retrying cannot fix, and answers 500. One that lost its state on the way (a serialized copy) is
    /// taken to be transient, and so is a call Orleans cancelled.
    /// </summary>
    public static bool IsUnavailable(Exception ex) => ex switch
    {
        TimeoutException or SiloUnavailableException or OrleansMessageRejectionException => true,
        // Orleans giving up on a call (a message that expired before placement or delivery, a silo paused): the
        // cluster did not answer in time. A request the client itself aborted ends the same way, unanswered.
        OperationCanceledException => true,
        PostgresException { SqlState: { Length: > 0 } } postgres => postgres.IsTransient,
        NpgsqlException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsUnavailable),
        _ => ex.InnerException is { } inner && IsUnavailable(inner),
    };

    /// <summary>Kestrel's own refusals (body too large, malformed request) keep their status: they are the client's doing.</summary>
    private sealed class BadRequestHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not BadHttpRequestException bad)
            {
                return false;
            }

            context.Response.StatusCode = bad.StatusCode;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                Exception = exception,
                ProblemDetails = { Status = bad.StatusCode, Title = "The request could not be read.", Detail = bad.Message },
            });
        }
    }

    private sealed class UnavailableHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (!IsUnavailable(exception))
            {
                return false;
            }

            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "1";
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                Exception = exception,
                ProblemDetails =
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "Temporarily unavailable.",
                    Detail = "The cluster or its database did not answer in time; retry shortly.",
                },
            });
        }
    }
}
