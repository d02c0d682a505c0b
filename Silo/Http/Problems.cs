using Microsoft.AspNetCore.Http.HttpResults;

namespace Reliability.Silo.Http;

/// <summary>RFC 9457 problem details with a stable type per kind of problem.</summary>
public static class Problems
{
    public const string TypePrefix = "urn:reliability:problem:";

    public static ProblemHttpResult Create(int status, string kind, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: TypePrefix + kind, extensions: extensions);

    public static ProblemHttpResult BadRequest(FieldError error) =>
        Create(StatusCodes.Status400BadRequest, "invalid-request", "The request is invalid.", error.ToString(),
            new Dictionary<string, object?> { ["field"] = error.Field });

    public static ProblemHttpResult BadRequest(IReadOnlyList<FieldError> errors) =>
        Create(StatusCodes.Status400BadRequest, "invalid-request", "The request is invalid.", string.Join("; ", errors),
            new Dictionary<string, object?> { ["errors"] = errors.ToDictionary(e => e.Field, e => e.Message) });

    public static ProblemHttpResult NotFound(string what) =>
        Create(StatusCodes.Status404NotFound, "not-found", "Not found.", what);
}
