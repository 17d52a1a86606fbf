using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GanForge.Web.Http;

/// <summary>
/// The checks every request passes before an endpoint sees it, and the one place errors become responses:
/// a status and a one-line plain-text reason, never a stack trace.
/// </summary>
static class Guards
{
    /// <summary>
    /// Turns exceptions into one-line 4xx answers by kind: a bad argument 400, something missing 404, a conflict
    /// (an image judged twice) 409, a body over the limit 413; anything else is logged and answered 500 without detail.
    /// </summary>
    public static async Task Errors(HttpContext context, RequestDelegate next, ILogger logger)
    {
        try { await next(context); }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            var (status, message) = e switch
            {
                BadHttpRequestException b => (b.StatusCode, b.Message),
                ArgumentException or InvalidDataException or FormatException or System.Text.Json.JsonException => (400, e.Message),
                KeyNotFoundException or FileNotFoundException or DirectoryNotFoundException => (404, e.Message),
                InvalidOperationException => (409, e.Message),
                _ => (500, "internal error; the server's console has the details"),
            };
            if (status >= 500) logger.LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            await Reply(context, status, message);
        }
    }

    /// <summary>Answers <paramref name="status"/> with <paramref name="message"/> as one line of plain text.</summary>
    public static Task Reply(HttpContext context, int status, string message)
    {
        context.Response.Clear();
        ApplySecurityHeaders(context.Response);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(OneLine(message) + "\n");
    }

    /// <summary>The first line of <paramref name="message"/>, control characters dropped, at most 300 characters.</summary>
    internal static string OneLine(string message)
    {
        var line = message.Split('\n')[0].Trim();
        line = new string(line.Where(c => !char.IsControl(c)).ToArray());
        return line.Length <= 300 ? line : line[..297] + "...";
    }

    /// <summary>
    /// Refuses a request whose Host is not this machine's while the server listens on loopback (a page elsewhere
    /// could otherwise reach it through DNS rebinding), and any state-changing request that does not come from this
    /// server's own pages: its Origin (or, without one, its Referer) must be this server, and its body JSON.
    /// </summary>
    public static async Task SameOrigin(HttpContext context, RequestDelegate next, bool loopbackOnly)
    {
        var request = context.Request;
        if (loopbackOnly && !IsLoopbackHost(request.Host.Host))
        {
            await Reply(context, 400, $"Host '{RunsShorten(request.Host.Value)}' refused: this server answers only to localhost (start it with --host to serve others)");
            return;
        }
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsOptions(request.Method))
        {
            string self = $"{request.Scheme}://{request.Host.Value}";
            string? origin = request.Headers.Origin.FirstOrDefault();
            string? referer = request.Headers.Referer.FirstOrDefault();
            bool ok = origin != null ? string.Equals(origin, self, StringComparison.OrdinalIgnoreCase)
                : referer != null && referer.StartsWith(self + "/", StringComparison.OrdinalIgnoreCase);
            if (!ok)
            {
                await Reply(context, 403, origin != null
                    ? $"{request.Method} refused: Origin '{RunsShorten(origin)}' is not this server ({self})"
                    : $"{request.Method} refused: no Origin or Referer header naming this server ({self})");
                return;
            }
            bool hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
            if (hasBody && request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
            {
                await Reply(context, 415, $"{request.Method} {request.Path}: send the body as application/json");
                return;
            }
        }
        await next(context);
    }

    static string RunsShorten(string? s) => Runs.RunCatalog.Shorten(s);

    static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>Headers that keep the pages to their own scripts and styles and out of other sites' frames.</summary>
    public static Task SecurityHeaders(HttpContext context, RequestDelegate next)
    {
        ApplySecurityHeaders(context.Response);
        return next(context);
    }

    static void ApplySecurityHeaders(HttpResponse response)
    {
        var h = response.Headers;
        h.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
        h.XContentTypeOptions = "nosniff";
        h["Referrer-Policy"] = "same-origin";
        h.XFrameOptions = "DENY";
    }
}
