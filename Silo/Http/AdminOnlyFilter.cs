using Microsoft.Extensions.Options;
using Reliability.Silo.Hosting;

namespace Reliability.Silo.Http;

/// <summary>Guards admin endpoints with <see cref="AdminAccess"/>: the bearer token when one is set, else loopback callers only.</summary>
public sealed class AdminOnlyFilter(IOptions<AdminOptions> options) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        AdminAccess.Check(context.HttpContext, options.Value.Token, AdminAccess.BearerToken(context.HttpContext.Request)) is { } denied
            ? ValueTask.FromResult<object?>(denied)
            : next(context);
}
