namespace Reliability.Silo.Hosting;

/// <summary>Who may call the admin endpoints (section <c>Admin</c>).</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>
    /// When set, admin endpoints require <c>Authorization: Bearer &lt;token&gt;</c>. When not set, they
    /// answer loopback callers only. Never logged.
    /// </summary>
    public string? Token { get; set; }
}
