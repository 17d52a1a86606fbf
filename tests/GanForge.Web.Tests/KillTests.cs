using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using GanForge.Web.Studies;
using Microsoft.Data.Sqlite;

namespace GanForge.Web.Tests;

/// <summary>`ganforge serve` killed with SIGKILL in the middle of a study keeps every judgment it acknowledged.</summary>
[Collection("runs")]
public class KillTests(RunsFixture runs)
{
    [Fact]
    public async Task Serve_KilledMidStudy_LosesNoAcknowledgedJudgment()
    {
        var studies = Path.Combine(Directory.CreateTempSubdirectory("ganforge-kill-").FullName, "studies.db");
        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "ganforge"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            ArgumentList = { "serve", "--runs", runs.Root, "--studies", studies, "--port", "0" },
        };
        using var server = Process.Start(info)!;
        var acknowledged = new ConcurrentBag<(string Judge, int Image)>();
        try
        {
            // The first line names the address (port 0: the OS picked it).
            var line = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120)) ?? "";
            var address = line.Split(' ').FirstOrDefault(w => w.StartsWith("http://", StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"serve printed '{line}' {await server.StandardError.ReadToEndAsync()}");
            using var client = new HttpClient { BaseAddress = new Uri(address) };
            client.DefaultRequestHeaders.Add("Origin", address);
            Task<HttpResponseMessage> Post(string path, string json) =>
                client.PostAsync(path, new StringContent(json, new MediaTypeHeaderValue("application/json")));

            var created = await Post("/api/studies", $"{{\"checkpoints\":[\"{RunsFixture.Trained}\"],\"real\":\"embedded\",\"count\":40}}");
            var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            var judges = new List<string>();
            for (int j = 0; j < 4; j++)
                judges.Add((await (await client.PostAsync($"/api/studies/{id}/judges", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("judge").GetString()!);

            async Task Answer(string judge, int image)
            {
                var r = await Post($"/api/studies/{id}/judgments", $"{{\"judge\":\"{judge}\",\"image\":{image},\"answer\":\"{(image % 3 == 0 ? "real" : "generated")}\"}}");
                if (r.StatusCode == HttpStatusCode.OK) acknowledged.Add((judge, image));
            }

            // A judge half-way through, answered one at a time.
            for (int i = 0; i < 20; i++) await Answer(judges[0], i);
            Assert.Equal(20, acknowledged.Count);

            // Then four judges at once, and the kill lands while their answers are in flight.
            var burst = judges.SelectMany(j => Enumerable.Range(20, 20).Select(i => (j, i)))
                .Select(async a => { try { await Answer(a.j, a.i); } catch (HttpRequestException) { } catch (TaskCanceledException) { } }).ToList();
            var until = DateTime.UtcNow.AddSeconds(60);
            while (acknowledged.Count < 40 && DateTime.UtcNow < until) await Task.Delay(5);
            server.Kill();   // SIGKILL: no shutdown, no checkpoint of the WAL
            await server.WaitForExitAsync();
            await Task.WhenAll(burst);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
        }

        Assert.True(acknowledged.Count >= 40, $"only {acknowledged.Count} answers were acknowledged before the kill");
        Assert.True(File.Exists(studies + "-wal"), "the kill should leave the write-ahead log for the next open to recover");
        using (var c = new SqliteConnection($"Data Source={studies}"))
        {
            c.Open();
            using var check = c.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", check.ExecuteScalar());
        }
        var store = new StudyStore(studies);
        var stored = store.Judgments(StudyId(studies)).Select(j => (j.Judge, j.Index)).ToHashSet();
        foreach (var a in acknowledged) Assert.Contains(a, stored);
        Assert.True(stored.Count >= acknowledged.Count);
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(studies)!, recursive: true);
    }

    static string StudyId(string db)
    {
        using var c = new SqliteConnection($"Data Source={db};Mode=ReadOnly");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id FROM studies";
        return (string)cmd.ExecuteScalar()!;
    }
}
