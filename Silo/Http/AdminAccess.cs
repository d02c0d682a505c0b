using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Reliability.Silo.Http;

/// <summary>
/// The one rule for admin surfaces (admin endpoints and the dashboard): with <c>Admin:Token</c> set, the
/// caller must present it (401 without a token, 403 with a wrong one); without it, loopback callers only
/// (403 otherwise).
/// </summary>
public static class AdminAccess
{
    /// <summary>Null when the caller may pass, else the problem to answer.</summary>
    public static ProblemHttpResult? Check(HttpContext http, string? token, string? presented)
    {
        if (string.IsNullOrEmpty(token))
        {
            var remote = http.Connection.RemoteIpAddress;
            return remote is not null && IPAddress.IsLoopback(remote)
                ? null
                : Deny(StatusCodes.Status403Forbidden, "Admin endpoints and the dashboard accept loopback callers only unless Admin:Token is set.");
        }

        if (presented is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Deny(StatusCodes.Status401Unauthorized, "Send Authorization: Bearer <admin token>.");
        }

        return Matches(presented, token) ? null : Deny(StatusCodes.Status403Forbidden, "The admin token is not valid.");
    }

    /// <summary>The token of an <c>Authorization: Bearer</c> header, or null without one.</summary>
    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>Compared in constant time, so the answer's timing tells nothing about the token.</summary>
    public static bool Matches(string presented, string token) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(token));

    private static ProblemHttpResult Deny(int status, string detail) =>
        Problems.Create(status, status == StatusCodes.Status401Unauthorized ? "unauthorized" : "forbidden",
            status == StatusCodes.Status401Unauthorized ? "Authentication required." : "Forbidden.", detail);
}
