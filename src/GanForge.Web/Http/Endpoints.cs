using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using GanForge.Gan;
using GanForge.Web.Explore;
using GanForge.Web.Runs;
using GanForge.Web.Studies;

namespace GanForge.Web.Http;

/// <summary>The body of POST /api/studies: a study made from runs of the runs folder.</summary>
public sealed record CreateStudyBody(string[]? Checkpoints, string? Real, int Count, bool Pair, ulong Seed);

/// <summary>The body of POST /api/studies/{id}/judgments: one image's answer ("real" or "generated"), or a pair's pick.</summary>
public sealed record AnswerBody(string? Judge, int? Image, string? Answer, int? Pair, int? Real);

/// <summary>The routes: pages, their assets, and the JSON API they call.</summary>
static class Endpoints
{
    public static void Map(WebApplication app, RunCatalog runs, StudyStore studies, LatentExplorer explorer)
    {
        // Pages. A page whose run or study does not exist is answered 404 here, not by a page that fails later.
        app.MapGet("/", () => Page("dashboard.html"));
        app.MapGet("/runs/{name}", (string name) => { runs.Resolve(name); return Page("run.html"); });
        app.MapGet("/turing", () => Page("turing.html"));
        app.MapGet("/turing/{id}", (string id) => { studies.Get(id); return Page("judge.html"); });
        app.MapGet("/turing/{id}/results", (string id) => { studies.Get(id); return Page("results.html"); });
        app.MapGet("/explore", () => Page("explore.html"));
        app.MapGet("/static/{file}", (string file) =>
            file.EndsWith(".html", StringComparison.Ordinal) || Assets.Find(file) is not { } asset
                ? throw new FileNotFoundException($"no static file '{RunCatalog.Shorten(file)}'")
                : Results.Bytes(asset.Bytes, asset.ContentType));

        // Runs: the dashboard's list, a run's page (polled with its version), sample grids.
        app.MapGet("/api/runs", () => runs.List());
        app.MapGet("/api/runs/{name}", (string name, string? since) => RunView.Detail(runs, name, since));
        app.MapGet("/api/runs/{name}/samples/{file}", (string name, string file) =>
            Results.File(RunView.SampleFile(runs, name, file), "image/png"));

        // Turing test.
        app.MapPost("/api/studies", async (HttpRequest request) =>
        {
            var body = await Body<CreateStudyBody>(request);
            if (body.Checkpoints is not { Length: > 0 }) throw new ArgumentException("study: pick at least one run (checkpoints)");
            var checkpoints = body.Checkpoints.Select(name => (name, runs.FileOf(name, Gan.Training.Checkpoint.FileName))).ToList();
            foreach (var (name, path) in checkpoints)
                if (!File.Exists(path)) throw new ArgumentException($"run '{name}' has no checkpoint yet");
            var real = CheckRealFromWeb(body.Real ?? "fashion-mnist");
            var draft = StudyBuilder.Draw(new StudyRequest(checkpoints, real, body.Count, body.Pair, body.Seed));
            var id = studies.Create(draft);
            return Results.Created($"/turing/{id}", new { id, link = $"/turing/{id}", results = $"/turing/{id}/results" });
        });
        app.MapGet("/api/studies/{id}", (string id) => studies.Get(id));
        app.MapGet("/api/studies/{id}/images/{index:int}", (string id, int index) =>
            Results.Bytes(studies.ItemPng(id, index), "image/png"));
        app.MapPost("/api/studies/{id}/judges", (string id) =>
        {
            var info = studies.Get(id);
            return new { judge = studies.NewJudge(id), images = info.Images, pair = info.Pair };
        });
        app.MapGet("/api/studies/{id}/judges/{judge}", (string id, string judge) => studies.Progress(id, judge));
        app.MapPost("/api/studies/{id}/judgments", async (string id, HttpRequest request) =>
        {
            var body = await Body<AnswerBody>(request);
            if (body.Pair is { } pair)
                return studies.AnswerPair(id, body.Judge, pair, body.Real ?? throw new ArgumentException("judgment: a pair's answer names the image picked as real (real)"));
            int image = body.Image ?? throw new ArgumentException("judgment: give the image and the answer ('real' or 'generated')");
            bool real = body.Answer switch
            {
                "real" => true,
                "generated" => false,
                _ => throw new ArgumentException($"judgment: answer '{RunCatalog.Shorten(body.Answer)}' is neither 'real' nor 'generated'"),
            };
            return studies.Answer(id, body.Judge, image, real);
        });
        app.MapGet("/api/studies/{id}/results", (string id) => studies.Results(id));
        app.MapGet("/api/studies/{id}/results.csv", (string id) =>
            Results.Text(studies.Csv(id), "text/csv; charset=utf-8"));

        // Latent explorer.
        app.MapGet("/api/explore/{name}", (string name) => explorer.Describe(name));
        app.MapGet("/api/explore/{name}/image.png", (string name, ulong? seed, string? d, float? psi, ulong? to, float? t, int? @class, int? cat, string? c) =>
            Results.Bytes(explorer.Render(name, new LatentPoint(seed ?? 0, Offsets(d), psi ?? 1f, to, t ?? 0f, Conditions(@class, cat, c))), "image/png"));
        app.MapGet("/api/explore/{name}/walk.png", (string name, ulong? seed, ulong? to, int? steps, string? d, float? psi, int? @class, int? cat, string? c) =>
            Results.Bytes(explorer.Walk(name, seed ?? 0, to ?? (seed ?? 0) + 1, steps ?? 8, Offsets(d), psi ?? 1f, Conditions(@class, cat, c)), "image/png"));
    }

    static IResult Page(string name) =>
        Assets.Find(name) is { } page ? Results.Bytes(page.Bytes, page.ContentType) : throw new InvalidOperationException($"page {name} is not embedded");

    static async Task<T> Body<T>(HttpRequest request)
    {
        if (!(request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)) throw new ArgumentException($"{request.Path}: the request has no body; send JSON");
        return await request.ReadFromJsonAsync<T>() ?? throw new ArgumentException($"{request.Path}: the body is JSON null; send an object");
    }

    /// <summary>The conditions of a query: class, InfoGAN's category, its continuous codes as numbers separated by commas (c=0.5,-1).</summary>
    static SampleConditions? Conditions(int? @class, int? category, string? codes)
    {
        var values = Offsets(codes, "c", 16);
        foreach (var v in values)
            if (!float.IsFinite(v) || Math.Abs(v) > LatentExplorer.MaxOffset) throw new ArgumentException($"explore: code {v} is outside [-{LatentExplorer.MaxOffset}, {LatentExplorer.MaxOffset}]");
        if (@class == null && category == null && values.Length == 0) return null;
        return new SampleConditions(@class, category, values.Length > 0 ? values.Select((v, i) => (i, v)).ToDictionary(p => p.i, p => p.v) : null);
    }

    /// <summary>The direction offsets of a query: numbers separated by commas ("0.5,0,-1").</summary>
    static float[] Offsets(string? d, string key = "d", int max = LatentExplorer.DirectionCount)
    {
        if (string.IsNullOrEmpty(d)) return [];
        var parts = d.Split(',');
        if (parts.Length > max) throw new ArgumentException($"explore: {key} has {parts.Length} values, at most {max}");
        return parts.Select(p => float.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"explore: {(key == "d" ? "offset" : "code")} '{RunCatalog.Shorten(p)}' is not a number")).ToArray();
    }

    /// <summary>
    /// The real data a study made from the web form may use: the named Fashion-MNIST sources and their class filters.
    /// A path would let anyone who reaches the server turn any image folder of this machine into a study.
    /// </summary>
    static string CheckRealFromWeb(string real)
    {
        var source = real.Split(':')[0].Trim().ToLowerInvariant();
        if (source is not ("fashion-mnist" or "embedded"))
            throw new ArgumentException($"study: real data '{RunCatalog.Shorten(real)}' from the web form must be fashion-mnist or embedded (with :class=...); `ganforge turing create --real PATH` takes a path");
        return real;
    }
}
