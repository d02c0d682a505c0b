using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Reliability.Silo.Hosting;

namespace Reliability.Silo.Http;

/// <summary>
/// Guards admin endpoints: with <c>Admin:Token</c> set, a matching bearer token (401 without one, 403
/// with a wrong one); without it, loopback callers only (403 otherwise).
/// </summary>
public sealed class AdminOnlyFilter(IOptions<AdminOptions> options) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var token = options.Value.Token;
        if (string.IsNullOrEmpty(token))
        {
            var remote = http.Connection.RemoteIpAddress;
            return remote is not null && IPAddress.IsLoopback(remote)
                ? next(context)
                : Deny(StatusCodes.Status403Forbidden, "Admin endpoints accept loopback callers only unless Admin:Token is set.");
        }

        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Deny(StatusCodes.Status401Unauthorized, "Send Authorization: Bearer <admin token>.");
        }

        var presented = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(presented, Encoding.UTF8.GetBytes(token))
            ? next(context)
            : Deny(StatusCodes.Status403Forbidden, "The admin token is not valid.");
    }

    private static ValueTask<object?> Deny(int status, string detail) =>
        ValueTask.FromResult<object?>(Problems.Create(status, status == 401 ? "unauthorized" : "forbidden",
            status == 401 ? "Authentication required." : "Forbidden.", detail));
}
