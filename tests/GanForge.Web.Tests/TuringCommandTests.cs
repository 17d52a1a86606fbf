using System.Text.Json;
using GanForge.Cli;
using GanForge.Web.Studies;
using Spectre.Console;

namespace GanForge.Web.Tests;

/// <summary>`ganforge turing create` and `turing results`, run in this process as a user meets them.</summary>
[Collection("runs")]
public sealed class TuringCommandTests(RunsFixture runs) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ganforge-turing-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int Code, string Output) Run(params string[] args)
    {
        var writer = new StringWriter();
        var previous = AnsiConsole.Console;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        console.Profile.Width = 10_000;
        AnsiConsole.Console = console;
        try { return (CliApp.Run(args, writer, writer), writer.ToString()); }
        finally { AnsiConsole.Console = previous; }
    }

    [Fact]
    public void Create_ThenResultsJson_WritesTheIdPrintsTheLinkAndCounts()
    {
        string db = Path.Combine(_dir, "studies.db"), idFile = Path.Combine(_dir, "study.txt");
        var (code, output) = Run("turing", "create", "--checkpoint", Path.Combine(runs.Root, RunsFixture.Trained), "--real", "embedded",
            "--count", "10", "--out", idFile, "--studies", db);
        Assert.True(code == 0, output);
        var id = File.ReadAllText(idFile).Trim();
        Assert.True(StudyStore.IsId(id));
        Assert.Contains($"http://127.0.0.1:5000/turing/{id}", output);

        var store = new StudyStore(db);
        var judge = store.NewJudge(id);
        for (int i = 0; i < 10; i++) store.Answer(id, judge, i, real: false);

        (code, output) = Run("turing", "results", id, "--json", "--studies", db, "--csv", Path.Combine(_dir, "j.csv"));
        Assert.True(code == 0, output);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(1, json.RootElement.GetProperty("judges").GetInt32());
        Assert.Equal(10, json.RootElement.GetProperty("judgments").GetInt32());
        var checkpoint = json.RootElement.GetProperty("checkpoints")[0];
        Assert.Equal(RunsFixture.Trained, checkpoint.GetProperty("checkpoint").GetString());
        Assert.Equal(0, checkpoint.GetProperty("fooled").GetProperty("count").GetInt32());
        Assert.Equal(5, checkpoint.GetProperty("fooled").GetProperty("of").GetInt32());
        Assert.Equal(0.4345, checkpoint.GetProperty("fooled").GetProperty("ci95").GetProperty("high").GetDouble(), 0.0001);   // Wilson 0/5
        Assert.Equal(11, File.ReadAllLines(Path.Combine(_dir, "j.csv")).Length);

        (code, output) = Run("turing", "results", id, "--studies", db);
        Assert.Equal(0, code);
        Assert.Contains("judge accuracy 50.0%", output);
    }

    [Fact]
    public void Create_OddCount_ExitsTwoWithOneLine()
    {
        var (code, output) = Run("turing", "create", "--checkpoint", Path.Combine(runs.Root, RunsFixture.Trained), "--real", "embedded",
            "--count", "9", "--out", Path.Combine(_dir, "s.txt"), "--studies", Path.Combine(_dir, "studies.db"));
        Assert.Equal(2, code);
        Assert.Contains("--count 9", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void Results_UnknownStudyOrNotADatabase_ExitsTwoWithOneLine()
    {
        var db = Path.Combine(_dir, "studies.db");
        new StudyStore(db);
        var (code, output) = Run("turing", "results", StudyStore.NewId(), "--studies", db);
        Assert.Equal(2, code);
        Assert.Contains("no study", output);

        var junk = Path.Combine(_dir, "junk.db");
        File.WriteAllText(junk, new string('x', 4096));
        (code, output) = Run("turing", "results", StudyStore.NewId(), "--studies", junk);
        Assert.Equal(2, code);
        Assert.Contains("is not a GanForge study database", output);
        Assert.DoesNotContain("   at ", output);
    }
}
