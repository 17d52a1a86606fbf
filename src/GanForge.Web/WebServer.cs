using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using GanForge.Web.Explore;
using GanForge.Web.Http;
using GanForge.Web.Runs;
using GanForge.Web.Studies;

namespace GanForge.Web;

/// <summary>How `ganforge serve` runs.</summary>
public sealed record WebServerOptions
{
    /// <summary>The runs folder (what `ganforge train --out` writes into): the dashboard lists its subfolders.</summary>
    public required string Runs { get; init; }

    /// <summary>The Turing-test database (SQLite); default RUNS/studies.db.</summary>
    public string? Studies { get; init; }

    /// <summary>The address to listen on: an IP address or "localhost"; the loopback address by default.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one (see <see cref="WebServer.Address"/>).</summary>
    public int Port { get; init; } = 5000;

    /// <summary>The largest request body accepted (a study's settings, one judgment): 64 KiB.</summary>
    public long MaxRequestBodyBytes { get; init; } = 64 * 1024;

    /// <summary>The default study database of a runs folder.</summary>
    public static string DefaultStudies(string runs) => Path.Combine(runs, "studies.db");
}

/// <summary>
/// The GanForge web app on Kestrel: the live training dashboard, the human Turing test and the latent explorer.
/// Pages, scripts and styles are embedded in this assembly; the pages call the JSON API under /api.
/// </summary>
public sealed class WebServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly string _endpoint;

    /// <summary>The runs served.</summary>
    public RunCatalog Runs { get; }

    /// <summary>The Turing-test studies.</summary>
    public StudyStore Studies { get; }

    /// <summary>The address the server listens on (after <see cref="StartAsync"/>), e.g. http://127.0.0.1:5000.</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    WebServer(WebApplication app, RunCatalog runs, StudyStore studies, string endpoint)
    { _app = app; Runs = runs; Studies = studies; _endpoint = endpoint; }

    /// <summary>Builds the server for <paramref name="options"/>; nothing listens until <see cref="StartAsync"/>.</summary>
    public static WebServer Create(WebServerOptions options)
    {
        var ip = ParseHost(options.Host);
        if (options.Port is < 0 or > 65535) throw new ArgumentException($"--port {options.Port} is not a port (0-65535; 0 picks a free one)");
        var runs = new RunCatalog(options.Runs);
        var studies = new StudyStore(options.Studies ?? WebServerOptions.DefaultStudies(runs.Root));
        var explorer = new LatentExplorer(runs);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [], EnvironmentName = Environments.Production, ContentRootPath = AppContext.BaseDirectory,
        });
        // Our own errors are logged (Guards.Errors); the framework's would repeat them with stack traces, and a failed
        // bind is reported by StartAsync as one line.
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Microsoft", LogLevel.Critical);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.Listen(ip, options.Port);
        });
        // Binding failures (a word where a number belongs) throw, so Guards.Errors answers them in one line.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("GanForge.Web");
        app.Use((context, next) => Guards.Errors(context, next, logger));
        app.UseStatusCodePages(async c =>
        {
            var r = c.HttpContext.Response;
            if (r.ContentLength is null or 0 && !r.HasStarted)
                await Guards.Reply(c.HttpContext, r.StatusCode, r.StatusCode switch
                {
                    404 => $"no page or API at {c.HttpContext.Request.Path}",
                    405 => $"{c.HttpContext.Request.Method} is not allowed at {c.HttpContext.Request.Path}",
                    _ => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(r.StatusCode),
                });
        });
        app.Use(Guards.SecurityHeaders);
        app.Use((context, next) => Guards.SameOrigin(context, next, IPAddress.IsLoopback(ip)));
        Endpoints.Map(app, runs, studies, explorer);
        return new WebServer(app, runs, studies, new IPEndPoint(ip, options.Port).ToString());
    }

    static IPAddress ParseHost(string host)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return IPAddress.Loopback;
        return IPAddress.TryParse(host.Trim('[', ']'), out var ip) ? ip
            : throw new ArgumentException($"--host '{host}' is not an IP address; give e.g. 127.0.0.1 (default), ::1, 0.0.0.0 (every interface) or localhost");
    }

    /// <summary>Starts listening; <see cref="Address"/> then holds the address, the port filled in.</summary>
    public async Task StartAsync(CancellationToken cancel = default)
    {
        try { await _app.StartAsync(cancel); }
        catch (IOException e) { throw new IOException($"serve: cannot listen on {_endpoint}: {e.Message.Split(':')[^1].Trim()}", e); }
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Address = new Uri(address.Replace("//[::]", "//[::1]").Replace("//0.0.0.0", "//127.0.0.1"));
    }

    /// <summary>Runs until the process is asked to stop (Ctrl-C, SIGTERM) or <paramref name="cancel"/> fires.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
