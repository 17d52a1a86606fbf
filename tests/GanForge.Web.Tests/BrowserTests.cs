using Microsoft.Playwright;

namespace GanForge.Web.Tests;

/// <summary>
/// The three pages as a person uses them, in Debian's Chromium driven by Playwright (headless): the dashboard
/// follows a run as metrics are appended, a judge completes a study and its results add up, a slider moves the image.
/// Each test leaves a screenshot: in docs/web/ when GANFORGE_WRITE_SCREENSHOTS=1, else in a temporary folder.
/// GANFORGE_SCREENSHOT_RUN=FOLDER puts a trained run in place of the tiny one (the tests' assertions hold for any
/// generator), so the screenshots in docs/ show real samples.
/// </summary>
public sealed class BrowserTests : IAsyncLifetime, IClassFixture<RunsFixture>
{
    /// <summary>Debian's chromium (apt-get install chromium); Playwright cannot download its own browsers here.</summary>
    const string ChromiumPath = "/usr/bin/chromium";

    readonly RunsFixture _fixture;
    readonly string _root = Directory.CreateTempSubdirectory("ganforge-browser-").FullName;
    IPlaywright _playwright = null!;
    IBrowser _browser = null!;
    ServerHarness _server = null!;

    /// <summary>The run with a checkpoint: a copy of the tiny fixture run, or of GANFORGE_SCREENSHOT_RUN.</summary>
    readonly string _trained;

    public BrowserTests(RunsFixture fixture)
    {
        _fixture = fixture;
        _trained = Environment.GetEnvironmentVariable("GANFORGE_SCREENSHOT_RUN") is { Length: > 0 } showcase
            ? Path.GetFileName(Path.TrimEndingDirectorySeparator(showcase)) : "mlp-gan-tiny";
    }

    /// <summary>The trained run under a name of its own, and a hand-made run with a sample grid and a warning.</summary>
    public async Task InitializeAsync()
    {
        var trained = Path.Combine(_root, _trained);
        CopyFolder(Environment.GetEnvironmentVariable("GANFORGE_SCREENSHOT_RUN") is { Length: > 0 } showcase
            ? showcase : Path.Combine(_fixture.Root, RunsFixture.Trained), trained);
        var live = Path.Combine(_root, "dcgan-live");
        Directory.CreateDirectory(Path.Combine(live, "samples"));
        File.WriteAllText(Path.Combine(live, "config.yaml"), "model: dcgan\ndata: fashion-mnist\n");
        File.WriteAllText(Path.Combine(live, "metrics.jsonl"), string.Concat(Enumerable.Range(1, 30).Select(RunsFixture.MetricsLine)));
        File.WriteAllText(Path.Combine(live, "warnings.jsonl"), "{\"step\":9,\"kind\":\"d_wins\",\"message\":\"D accuracy above 95% for 500 steps: the discriminator may be winning outright\"}\n");
        var grid = Directory.GetFiles(Path.Combine(trained, "samples"), "epoch_*.png").Order(StringComparer.Ordinal).Last();
        File.Copy(grid, Path.Combine(live, "samples", "epoch_001.png"));

        if (!File.Exists(ChromiumPath)) throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install chromium");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true });
        _server = await ServerHarness.Start(_root);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from).Where(f => Path.GetFileName(f) != ".lock"))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from)) CopyFolder(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    async Task<IPage> Open(string path)
    {
        var page = await _browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        page.SetDefaultTimeout(60_000);   // generous: CI shares 2 cores with other test assemblies
        await page.GotoAsync(new Uri(_server.Address, path).ToString());
        return page;
    }

    static async Task Screenshot(IPage page, string name)
    {
        string folder = Environment.GetEnvironmentVariable("GANFORGE_WRITE_SCREENSHOTS") == "1"
            ? Path.Combine(RepositoryRoot(), "docs", "web") : Path.Combine(Path.GetTempPath(), "ganforge-screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
    }

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "GanForge.sln"))) return dir.FullName;
        throw new InvalidOperationException("GanForge.sln not found above the test folder");
    }

    [Fact]
    public async Task Dashboard_MetricsLineAppended_ChartGainsAPointWithoutReload()
    {
        var page = await Open("/");
        await page.Locator("tr[data-run='dcgan-live']").WaitForAsync();
        Assert.Contains("dcgan", await page.Locator("tr[data-run='dcgan-live']").InnerTextAsync());
        await Screenshot(page, "dashboard.png");

        await page.Locator("tr[data-run='dcgan-live'] a").First.ClickAsync();
        var losses = page.Locator(".chartbox[data-chart='Losses'] svg circle");
        await page.WaitForFunctionAsync("() => document.querySelectorAll(\".chartbox[data-chart='Losses'] svg circle\").length === 60");
        var before = await losses.CountAsync();
        await page.EvaluateAsync("() => window.loadedOnce = true");   // a reload would drop this

        File.AppendAllText(Path.Combine(_root, "dcgan-live", "metrics.jsonl"), RunsFixture.MetricsLine(31));
        await page.WaitForFunctionAsync("() => document.querySelectorAll(\".chartbox[data-chart='Losses'] svg circle\").length === 62");
        Assert.Equal(before + 2, await losses.CountAsync());   // one more point on each of the two loss lines
        Assert.True(await page.EvaluateAsync<bool>("() => window.loadedOnce === true"));
        Assert.Equal("31", await page.Locator(".summary div:has(dt:text-is('last step')) dd").InnerTextAsync());
        Assert.Contains("d_wins", await page.Locator("#warnings").InnerTextAsync());
        await Screenshot(page, "run.png");
    }

    [Fact]
    public async Task Turing_JudgeCompletesTenImageStudy_ResultsShowCountsAndInterval()
    {
        var page = await Open("/turing");
        await page.Locator($"input[name=checkpoint][value='{_trained}']").CheckAsync();
        await page.Locator("#real").FillAsync("embedded");
        await page.Locator("#count").FillAsync("10");
        await page.Locator("#submit").ClickAsync();
        await page.Locator("#created").WaitForAsync();
        var link = await page.Locator("#judge-link").GetAttributeAsync("href");

        await page.GotoAsync(link!);
        for (int i = 1; i <= 10; i++)
        {
            await page.Locator("#progress").Filter(new() { HasTextString = $"image {i} of 10" }).WaitForAsync();
            await page.WaitForFunctionAsync("() => { const img = document.querySelector('#stage img'); return img && img.complete && img.naturalWidth > 0; }");
            if (i == 4) await Screenshot(page, "turing.png");
            await page.Locator("#real").ClickAsync();   // "real" to every image: right on the 5 real ones, fooled by the 5 generated
        }
        await page.Locator("#done").WaitForAsync();
        Assert.Equal("5 / 10", await page.Locator("#score").InnerTextAsync());

        await page.GotoAsync(link + "/results");
        await page.Locator("tr[data-row='fooled']").WaitForAsync();
        Assert.Equal("1", await page.Locator("#judges").InnerTextAsync());
        Assert.Equal("10", await page.Locator("#judgments").InnerTextAsync());
        var fooled = await page.Locator("tr[data-row='fooled']").InnerTextAsync();
        Assert.Contains("100.0%", fooled);
        Assert.Contains("5 / 5", fooled);
        Assert.Contains("[56.6%, 100.0%]", fooled);   // Wilson 95% for 5 of 5
        var accuracy = await page.Locator("tr[data-row='accuracy']").InnerTextAsync();
        Assert.Contains("50.0%", accuracy);
        Assert.Contains("5 / 10", accuracy);
        Assert.Contains("[23.7%, 76.3%]", accuracy);
        await Screenshot(page, "results.png");
    }

    [Fact]
    public async Task Explorer_MovingASlider_ChangesTheImage()
    {
        var page = await Open($"/explore?run={_trained}");
        const string Loaded = "() => { const i = document.getElementById('sample'); return i.complete && i.naturalWidth > 0 && i.src.includes(%s); }";
        await page.WaitForFunctionAsync(Loaded.Replace("%s", "'d=0%2C0'"));
        var before = await page.Locator("#sample").ScreenshotAsync();

        await page.Locator("#d0").FillAsync("2.5");
        await page.WaitForFunctionAsync(Loaded.Replace("%s", "'d=2.5%2C0'"));
        var after = await page.Locator("#sample").ScreenshotAsync();
        Assert.NotEqual(before, after);
        Assert.Equal("2.5", await page.Locator("#directions output").First.InnerTextAsync());

        await page.Locator("#walk").ClickAsync();
        await page.WaitForFunctionAsync("() => { const i = document.getElementById('strip'); return i.complete && i.naturalWidth > 0; }");
        await Screenshot(page, "explorer.png");
    }
}
