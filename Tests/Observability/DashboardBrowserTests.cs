using Microsoft.Playwright;
using Reliability.Client.Infrastructure;
using Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Reliability.Tests.Observability;

/// <summary>
/// The Orleans dashboard of the fixture's silos in Debian's headless Chromium, driven by Playwright with
/// the system binary (no browser is downloaded), logged in through <c>?token=</c>. The screenshots are
/// kept in TestResults/artifacts.
/// </summary>
[Collection(SiloHostCollection.Name)]
public sealed class DashboardBrowserTests(SiloHostFixture silo, ITestOutputHelper output)
{
    private static readonly LocatorWaitForOptions Patience = new() { Timeout = 30_000 };

    [Fact]
    public async Task TheDashboard_OpenedWithTheAdminToken_ShowsTheSilosAndTheGrainTypes()
    {
        var chromium = ProcessRunner.FindOnPath("chromium")
            ?? throw new InvalidOperationException("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it).");
        var artifacts = Directory.CreateDirectory(Path.Combine(RepositoryPaths.Root, "TestResults", "artifacts")).FullName;
        // A rate limiter grain to look for: every /api request is checked against the http-api policy.
        using (await silo.Http.GetAsync("/api/ratelimit/stats"))
        {
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // The machine's network is closed: without these, Chromium keeps trying to reach Google's services.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        var dashboard = $"{silo.Http.BaseAddress}dashboard/";

        var anonymous = await page.GotoAsync(dashboard);
        Assert.Equal(401, anonymous!.Status);

        var opened = await page.GotoAsync($"{dashboard}?token={SiloHostFixture.AdminToken}");
        Assert.Equal(200, opened!.Status);
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);
        await page.GetByText("ACTIVE SILOS").First.WaitForAsync(Patience);

        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Silos", Exact = true }).ClickAsync();
        for (var i = 0; i < SiloHostFixture.SiloCount; i++)
        {
            await page.GetByText($"http-silo-{i}").First.WaitForAsync(Patience);
        }

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artifacts, "dashboard-silos.png"), FullPage = true });

        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Grains", Exact = true }).ClickAsync();
        foreach (var grainType in new[] { "RateLimiterGrain", "RateLimitPolicyRegistryGrain", "ProjectionRunnerGrain", "SagaSupervisorGrain" })
        {
            await page.GetByText(grainType, new PageGetByTextOptions { Exact = true }).First.WaitForAsync(Patience);
        }

        var grains = Path.Combine(artifacts, "dashboard-grains.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = grains, FullPage = true });
        output.WriteLine($"screenshots: {artifacts}");
        Assert.True(new FileInfo(grains).Length > 10_000, "the screenshot is nearly empty");
    }
}
