using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace GanForge.Web.Tests;

/// <summary>Every endpoint over HTTP on a real Kestrel (port 0), the bad-input cases included.</summary>
[Collection("runs")]
public class ServerTests(RunsFixture runs)
{
    /// <summary>A 4xx whose body is one line of reason and no stack trace.</summary>
    static async Task<string> AssertRefused(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Single(body.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", body);
        Assert.DoesNotContain("Exception", body);
        Assert.True(body.Trim().Length > 5, "the reason is empty");
        return body;
    }

    [Fact]
    public async Task Pages_AndAssets_ServedWithTheirTypesAndCsp()
    {
        await using var h = await ServerHarness.Start(runs.Root);
        foreach (var path in new[] { "/", "/turing", "/explore", $"/runs/{RunsFixture.Trained}" })
        {
            var r = await h.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("text/html", r.Content.Headers.ContentType!.MediaType);
            Assert.Contains("script-src 'self'", r.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Contains("<nav>", await r.Content.ReadAsStringAsync());
        }
        var js = await h.Client.GetAsync("/static/app.js");
        Assert.Equal("text/javascript", js.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", js.Headers.GetValues("X-Content-Type-Options").Single());
        await AssertRefused(await h.Client.GetAsync("/static/nope.js"), HttpStatusCode.NotFound);
        await AssertRefused(await h.Client.GetAsync("/static/dashboard.html"), HttpStatusCode.NotFound);
        await AssertRefused(await h.Client.GetAsync("/no/such/page"), HttpStatusCode.NotFound);
        await AssertRefused(await h.Client.GetAsync("/runs/no-such-run"), HttpStatusCode.NotFound);
        await AssertRefused(await h.Client.GetAsync("/turing/AAAAAAAAAAAAAAAAAAAAAA"), HttpStatusCode.NotFound);
        await AssertRefused(await h.Client.GetAsync("/turing/AAAAAAAAAAAAAAAAAAAAAA/results"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Runs_ListDetailAndSamples_BadNamesRefused()
    {
        await using var h = await ServerHarness.Start(runs.Root);
        var list = await h.Client.GetFromJsonAsync<JsonElement>("/api/runs");
        var tiny = list.EnumerateArray().Single(r => r.GetProperty("name").GetString() == RunsFixture.Trained);
        Assert.Equal("gan", tiny.GetProperty("model").GetString());
        Assert.Equal(4, tiny.GetProperty("steps").GetInt32());
        Assert.True(tiny.GetProperty("hasCheckpoint").GetBoolean());

        var detail = await h.Client.GetFromJsonAsync<JsonElement>($"/api/runs/{RunsFixture.Trained}");
        Assert.True(detail.GetProperty("changed").GetBoolean());
        var titles = detail.GetProperty("charts").EnumerateArray().Select(c => c.GetProperty("title").GetString()).ToList();
        Assert.Contains("Losses", titles);
        Assert.Contains("Discriminator accuracy", titles);
        Assert.Contains(detail.GetProperty("sampleEpochs").EnumerateArray(), e => e.GetInt32() == 1);
        var version = detail.GetProperty("version").GetString();
        var same = await h.Client.GetFromJsonAsync<JsonElement>($"/api/runs/{RunsFixture.Trained}?since={version}");
        Assert.False(same.GetProperty("changed").GetBoolean());

        foreach (var file in new[] { "latest", "epoch_001.png", "samples.png" })
        {
            var png = await h.Client.GetAsync($"/api/runs/{RunsFixture.Trained}/samples/{file}");
            Assert.Equal(HttpStatusCode.OK, png.StatusCode);
            Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);
        }
        await AssertRefused(await h.Client.GetAsync($"/api/runs/{RunsFixture.Trained}/samples/config.yaml"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Client.GetAsync($"/api/runs/{RunsFixture.Trained}/samples/..%2Fconfig.yaml"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Client.GetAsync($"/api/runs/{RunsFixture.Trained}/samples/epoch_777.png"), HttpStatusCode.NotFound);
        await AssertRefused(await h.Client.GetAsync("/api/runs/..%2F..%2Fetc"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Client.GetAsync("/api/runs/.hidden"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Client.GetAsync("/api/runs/missing"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Posts_WithoutOurOriginOrJsonOrOverTheLimit_Refused()
    {
        await using var h = await ServerHarness.Start(runs.Root);
        using var bare = new HttpClient { BaseAddress = h.Address };
        var json = new StringContent("{}", new MediaTypeHeaderValue("application/json"));
        await AssertRefused(await bare.PostAsync("/api/studies", json), HttpStatusCode.Forbidden);

        var foreign = new HttpRequestMessage(HttpMethod.Post, "/api/studies") { Content = new StringContent("{}", new MediaTypeHeaderValue("application/json")) };
        foreign.Headers.Add("Origin", "http://evil.example");
        await AssertRefused(await bare.SendAsync(foreign), HttpStatusCode.Forbidden);

        var referred = new HttpRequestMessage(HttpMethod.Post, "/api/studies") { Content = new StringContent("{\"checkpoints\":[]}", new MediaTypeHeaderValue("application/json")) };
        referred.Headers.Referrer = new Uri(h.Address, "/turing");
        await AssertRefused(await bare.SendAsync(referred), HttpStatusCode.BadRequest);   // past the origin check: refused for its content

        await AssertRefused(await h.Client.PostAsync("/api/studies", new StringContent("checkpoints=tiny", new MediaTypeHeaderValue("application/x-www-form-urlencoded"))),
            HttpStatusCode.UnsupportedMediaType);
        await AssertRefused(await h.Post("/api/studies", "{\"real\":\"" + new string('x', 70_000) + "\"}"), HttpStatusCode.RequestEntityTooLarge);
        await AssertRefused(await h.Post("/api/studies", "{not json"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Post("/api/studies", "null"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Client.PostAsync("/api/studies", null), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Client.DeleteAsync("/api/runs"), HttpStatusCode.MethodNotAllowed);

        var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        rebound.Headers.Host = "attacker.example";
        await AssertRefused(await bare.SendAsync(rebound), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Study_CreateJudgeAndResults_OverHttp()
    {
        await using var h = await ServerHarness.Start(runs.Root);
        await AssertRefused(await h.Post("/api/studies", $"{{\"checkpoints\":[\"{RunsFixture.Trained}\"],\"real\":\"/etc\",\"count\":4}}"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Post("/api/studies", "{\"checkpoints\":[\"../x\"],\"count\":4}"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Post("/api/studies", $"{{\"checkpoints\":[\"{RunsFixture.Trained}\"],\"real\":\"embedded\",\"count\":3}}"), HttpStatusCode.BadRequest);
        runs.HandMade("no-checkpoint", 2);
        await AssertRefused(await h.Post("/api/studies", "{\"checkpoints\":[\"no-checkpoint\"],\"real\":\"embedded\",\"count\":4}"), HttpStatusCode.BadRequest);

        var created = await h.Post("/api/studies", $"{{\"checkpoints\":[\"{RunsFixture.Trained}\"],\"real\":\"embedded\",\"count\":4,\"seed\":2}}");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.Equal(22, id.Length);
        var info = await h.Client.GetFromJsonAsync<JsonElement>($"/api/studies/{id}");
        Assert.Equal(4, info.GetProperty("images").GetInt32());
        Assert.False(info.TryGetProperty("items", out _));

        var png = await h.Client.GetAsync($"/api/studies/{id}/images/3");
        Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);
        await AssertRefused(await h.Client.GetAsync($"/api/studies/{id}/images/4"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Client.GetAsync($"/api/studies/{id}/images/x"), HttpStatusCode.NotFound);

        var judge = (await (await h.Client.PostAsync($"/api/studies/{id}/judges", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("judge").GetString();
        for (int i = 0; i < 4; i++)
            Assert.Equal(HttpStatusCode.OK, (await h.Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"image\":{i},\"answer\":\"real\"}}")).StatusCode);
        await AssertRefused(await h.Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"image\":0,\"answer\":\"generated\"}}"), HttpStatusCode.Conflict);
        await AssertRefused(await h.Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"image\":9,\"answer\":\"real\"}}"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"image\":1,\"answer\":\"maybe\"}}"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"pair\":0,\"real\":1}}"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Post($"/api/studies/{id}/judgments", "{\"judge\":\"nobody\",\"image\":1,\"answer\":\"real\"}"), HttpStatusCode.NotFound);
        await AssertRefused(await h.Post("/api/studies/BBBBBBBBBBBBBBBBBBBBBB/judgments", $"{{\"judge\":\"{judge}\",\"image\":1,\"answer\":\"real\"}}"), HttpStatusCode.NotFound);
        await AssertRefused(await h.Client.GetAsync($"/api/studies/{id}/judges/{StudyStoreId()}"), HttpStatusCode.NotFound);

        var progress = await h.Client.GetFromJsonAsync<JsonElement>($"/api/studies/{id}/judges/{judge}");
        Assert.Equal(2, progress.GetProperty("correct").GetInt32());   // "real" to all: right on the two real images

        var results = await h.Client.GetFromJsonAsync<JsonElement>($"/api/studies/{id}/results");
        Assert.Equal(1, results.GetProperty("judges").GetInt32());
        Assert.Equal(4, results.GetProperty("judgments").GetInt32());
        var fooled = results.GetProperty("checkpoints")[0].GetProperty("fooled");
        Assert.Equal(2, fooled.GetProperty("count").GetInt32());
        Assert.Equal(1.0, fooled.GetProperty("value").GetDouble(), 1e-12);
        Assert.Equal(0.3424, fooled.GetProperty("ci95").GetProperty("low").GetDouble(), 0.0001);   // Wilson 2/2

        var csv = await h.Client.GetAsync($"/api/studies/{id}/results.csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        Assert.Equal(5, (await csv.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n').Length);
        await AssertRefused(await h.Client.GetAsync("/api/studies/not-an-id/results"), HttpStatusCode.NotFound);
    }

    static string StudyStoreId() => Studies.StudyStore.NewId();

    [Fact]
    public async Task PairStudy_PicksOverHttp_CountTwoJudgmentsEach()
    {
        await using var h = await ServerHarness.Start(runs.Root);
        var created = await h.Post("/api/studies", $"{{\"checkpoints\":[\"{RunsFixture.Trained}\"],\"real\":\"embedded\",\"count\":4,\"pair\":true}}");
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var judge = (await (await h.Client.PostAsync($"/api/studies/{id}/judges", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("judge").GetString();
        await AssertRefused(await h.Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"image\":0,\"answer\":\"real\"}}"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"pair\":0,\"real\":3}}"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"pair\":2,\"real\":4}}"), HttpStatusCode.BadRequest);
        var first = await h.Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"pair\":0,\"real\":0}}");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await AssertRefused(await h.Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"pair\":0,\"real\":1}}"), HttpStatusCode.Conflict);
        var last = await (await h.Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"pair\":1,\"real\":3}}")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(4, last.GetProperty("answered").GetArrayLength());
        int correct = last.GetProperty("correct").GetInt32();
        Assert.True(correct is 0 or 2 or 4, $"a pick is right or wrong on both images, got {correct} of 4");
        var results = await h.Client.GetFromJsonAsync<JsonElement>($"/api/studies/{id}/results");
        Assert.Equal(4, results.GetProperty("judgments").GetInt32());
        Assert.True(results.GetProperty("pair").GetBoolean());
        var fooled = results.GetProperty("checkpoints")[0].GetProperty("fooled");
        Assert.Equal(2, fooled.GetProperty("of").GetInt32());
        Assert.Equal(2 - correct / 2, fooled.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Explore_DescribeRenderAndWalk_BadControlsRefused()
    {
        await using var h = await ServerHarness.Start(runs.Root);
        var model = await h.Client.GetFromJsonAsync<JsonElement>($"/api/explore/{RunsFixture.Trained}");
        Assert.Equal(16, model.GetProperty("latentDim").GetInt32());
        Assert.Equal(5, model.GetProperty("directions").GetInt32());

        var a = await h.Client.GetByteArrayAsync($"/api/explore/{RunsFixture.Trained}/image.png?seed=3");
        var b = await h.Client.GetByteArrayAsync($"/api/explore/{RunsFixture.Trained}/image.png?seed=3&d=0,0,2.5");
        var c = await h.Client.GetByteArrayAsync($"/api/explore/{RunsFixture.Trained}/image.png?seed=3&to=8&t=0.5&psi=0.7");
        Assert.Equal(0x89, a[0]);
        Assert.NotEqual(a, b);
        Assert.NotEqual(a, c);
        var walk = await h.Client.GetByteArrayAsync($"/api/explore/{RunsFixture.Trained}/walk.png?seed=3&to=4&steps=6");
        Assert.Equal(6 * 28 + 7 * 2, (walk[16] << 24) | (walk[17] << 16) | (walk[18] << 8) | walk[19]);   // IHDR width: 6 frames, padding 2

        await AssertRefused(await h.Client.GetAsync($"/api/explore/{RunsFixture.Trained}/image.png?seed=x"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Client.GetAsync($"/api/explore/{RunsFixture.Trained}/image.png?psi=3"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Client.GetAsync($"/api/explore/{RunsFixture.Trained}/image.png?d=1,zz"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Client.GetAsync($"/api/explore/{RunsFixture.Trained}/image.png?d=1,1,1,1,1,1"), HttpStatusCode.BadRequest);
        await AssertRefused(await h.Client.GetAsync($"/api/explore/{RunsFixture.Trained}/walk.png?steps=500"), HttpStatusCode.BadRequest);
        runs.HandMade("explore-no-checkpoint", 1);
        await AssertRefused(await h.Client.GetAsync("/api/explore/explore-no-checkpoint"), HttpStatusCode.NotFound);
        await AssertRefused(await h.Client.GetAsync("/api/explore/..%2F..%2Ftmp"), HttpStatusCode.BadRequest);
    }
}
