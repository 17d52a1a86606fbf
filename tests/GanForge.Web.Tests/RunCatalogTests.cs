using GanForge.Web.Runs;

namespace GanForge.Web.Tests;

public sealed class RunCatalogTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("ganforge-catalog-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    string Run(string name, string metrics, string? warnings = null)
    {
        var dir = Path.Combine(_root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.yaml"), "model: wgan-gp\ndata: fashion-mnist:class=7\n");
        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), metrics);
        if (warnings != null) File.WriteAllText(Path.Combine(dir, "warnings.jsonl"), warnings);
        return dir;
    }

    [Fact]
    public void List_RunFolders_SummarizesModelDataStepsFidAndWarnings()
    {
        Run("a", "{\"step\":10,\"loss_d\":1}\n{\"step\":20,\"fid\":150.5}\n{\"step\":30,\"loss_d\":0.9}\n{\"step\":40,",
            "{\"step\":5,\"kind\":\"collapse\",\"message\":\"m\"}\n{\"step\":9,\"kind\":\"collapse\",\"message\":\"m\"}\n");
        Directory.CreateDirectory(Path.Combine(_root, "not-a-run"));
        File.WriteAllText(Path.Combine(_root, "studies.db"), "");
        var runs = new RunCatalog(_root).List();
        var a = Assert.Single(runs);
        Assert.Equal("a", a.Name);
        Assert.Equal("wgan-gp", a.Model);
        Assert.Equal("fashion-mnist:class=7", a.Data);
        Assert.Equal(30, a.Steps);   // the torn last line is skipped
        Assert.Equal(150.5, a.LastFid!.Value, 1e-9);
        Assert.Equal(2, a.Warnings);
        Assert.False(a.HasCheckpoint);
    }

    [Fact]
    public void List_AfterAMetricsLineIsAppended_ShowsTheNewStep()
    {
        var dir = Run("c", "{\"step\":10}\n");
        var catalog = new RunCatalog(_root);
        Assert.Equal(10, Assert.Single(catalog.List()).Steps);
        File.AppendAllText(Path.Combine(dir, "metrics.jsonl"), "{\"step\":20}\n");
        Assert.Equal(20, Assert.Single(catalog.List()).Steps);
    }

    [Fact]
    public void List_EvalJson_ItsFidWins()
    {
        var dir = Run("b", "{\"step\":20,\"fid\":150}\n");
        File.WriteAllText(Path.Combine(dir, "eval.json"), "{\"summary\":{\"fid\":{\"value\":42.25,\"floor\":1.0}}}");
        Assert.Equal(42.25, new RunCatalog(_root).Summary("b").LastFid!.Value, 1e-9);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData(".hidden")]
    [InlineData("a..b")]
    [InlineData("/etc")]
    [InlineData("")]
    [InlineData("x\0y")]
    public void Resolve_NameOutsideTheFolderOrMalformed_ThrowsArgumentException(string name)
    {
        Run("a", "");
        Assert.Throws<ArgumentException>(() => new RunCatalog(_root).Resolve(name));
    }

    [Fact]
    public void Resolve_TooLongName_ThrowsArgumentException() =>
        Assert.Throws<ArgumentException>(() => new RunCatalog(_root).Resolve(new string('a', 101)));

    [Fact]
    public void Resolve_Missing_ThrowsDirectoryNotFound() =>
        Assert.Throws<DirectoryNotFoundException>(() => new RunCatalog(_root).Resolve("nope"));

    [Fact]
    public void Resolve_LinkLeadingOutside_ThrowsAndIsNotListed()
    {
        var outside = Directory.CreateTempSubdirectory("ganforge-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "metrics.jsonl"), "{\"step\":1}\n");
            Directory.CreateSymbolicLink(Path.Combine(_root, "escape"), outside);
            var catalog = new RunCatalog(_root);
            Assert.Throws<ArgumentException>(() => catalog.Resolve("escape"));
            Assert.DoesNotContain(catalog.List(), r => r.Name == "escape");
        }
        finally { Directory.Delete(outside, recursive: true); }
    }

    [Fact]
    public void FileOf_RelativePathClimbingOut_Throws()
    {
        Run("a", "");
        Assert.Throws<ArgumentException>(() => new RunCatalog(_root).FileOf("a", "../../etc/passwd"));
    }

    [Fact]
    public void SampleFile_NamesOtherThanGrids_Throw()
    {
        var dir = Run("a", "");
        Directory.CreateDirectory(Path.Combine(dir, "samples"));
        File.WriteAllBytes(Path.Combine(dir, "samples", "epoch_002.png"), [0x89, (byte)'P', (byte)'N', (byte)'G']);
        File.WriteAllBytes(Path.Combine(dir, "samples", "epoch_010.png"), [0x89, (byte)'P', (byte)'N', (byte)'G']);
        var catalog = new RunCatalog(_root);
        Assert.EndsWith("epoch_010.png", RunView.SampleFile(catalog, "a", "latest"));
        Assert.Throws<ArgumentException>(() => RunView.SampleFile(catalog, "a", "config.yaml"));
        Assert.Throws<ArgumentException>(() => RunView.SampleFile(catalog, "a", "../a/config.yaml"));
        Assert.Throws<FileNotFoundException>(() => RunView.SampleFile(catalog, "a", "epoch_999.png"));
    }

    [Fact]
    public void Detail_SinceCurrentVersion_IsUnchangedUntilAMetricsLineIsAppended()
    {
        var dir = Run("a", "{\"step\":1,\"loss_d\":1.2,\"loss_g\":0.7}\n");
        var catalog = new RunCatalog(_root);
        var first = RunView.Detail(catalog, "a");
        Assert.True(first.Changed);
        Assert.Contains(first.Charts, c => c.Title == "Losses" && c.Svg.StartsWith("<svg", StringComparison.Ordinal));
        Assert.False(RunView.Detail(catalog, "a", first.Version).Changed);
        File.AppendAllText(Path.Combine(dir, "metrics.jsonl"), "{\"step\":2,\"loss_d\":1.1,\"loss_g\":0.8}\n");
        var second = RunView.Detail(catalog, "a", first.Version);
        Assert.True(second.Changed);
        Assert.Contains(second.Facts, f => f.Label == "last step" && f.Value == "2");
    }
}
