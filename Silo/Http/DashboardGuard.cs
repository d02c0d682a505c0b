using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Options;
using Reliability.Silo.Hosting;

namespace Reliability.Silo.Http;

/// <summary>
/// The dashboard follows the admin rule (<see cref="AdminAccess"/>). Browsers cannot send a bearer header,
/// so the page also takes <c>?token=</c> once: it answers with an HttpOnly, SameSite=Strict cookie and a
/// redirect to the same page without the token (out of the address bar, history and referrers), and the
/// dashboard's own follow-up requests pass with the cookie. The cookie holds a hash of the token, not the
/// token, so it opens the dashboard but not the admin endpoints.
/// </summary>
public sealed class DashboardGuard(RequestDelegate next, IOptions<AdminOptions> options)
{
    public const string PathPrefix = "/dashboard";
    public const string CookieName = "dashboard-access";
    public const string QueryName = "token";

    public async Task InvokeAsync(HttpContext http)
    {
        var token = options.Value.Token;
        var fromQuery = http.Request.Query[QueryName].ToString();
        var presented = AdminAccess.BearerToken(http.Request)
            ?? (fromQuery.Length > 0 ? fromQuery : null)
            ?? CookieToken(http.Request, token);
        if (AdminAccess.Check(http, token, presented) is { } denied)
        {
            await denied.ExecuteAsync(http);
            return;
        }

        if (!string.IsNullOrEmpty(token) && fromQuery.Length > 0)
        {
            http.Response.Cookies.Append(CookieName, CookieValue(token), new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = http.Request.IsHttps,
                Path = PathPrefix,
            });
            var rest = new QueryBuilder(http.Request.Query.Where(q => q.Key != QueryName).SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v ?? ""))));
            http.Response.StatusCode = StatusCodes.Status303SeeOther;
            http.Response.Headers.Location = http.Request.PathBase + http.Request.Path + rest.ToQueryString();
            return;
        }

        await next(http);
    }

    /// <summary>The token a valid cookie stands for, so that the one comparison in <see cref="AdminAccess"/> decides.</summary>
    private static string? CookieToken(HttpRequest request, string? token) =>
        !string.IsNullOrEmpty(token) && request.Cookies.TryGetValue(CookieName, out var cookie) && cookie is not null
            ? AdminAccess.Matches(cookie, CookieValue(token)) ? token : cookie
            : null;

    private static string CookieValue(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("dashboard:" + token)));
}
