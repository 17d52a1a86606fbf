using GanForge.Web.Studies;

namespace GanForge.Web.Tests;

public sealed class StudyStoreTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ganforge-store-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    StudyStore Store() => new(Path.Combine(_dir, "studies.db"));

    /// <summary>A study of n images alternating real (even) and generated (odd), classes i % 3.</summary>
    static StudyDraft Draft(int n, bool pair = false) => new("embedded", ["run-a"], ["zero", "one", "two"], pair, 7,
        Enumerable.Range(0, n).Select(i => new StudyItem(i, i % 2 == 1, 0, i % 3, [0x89, (byte)'P', (byte)'N', (byte)'G', (byte)i])).ToList());

    [Fact]
    public void NewId_Ids_Are22UrlSafeCharactersAndDistinct()
    {
        var ids = Enumerable.Range(0, 200).Select(_ => StudyStore.NewId()).ToList();
        Assert.All(ids, id => Assert.True(StudyStore.IsId(id)));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Answer_EachImageOnce_ScoreAtTheEnd()
    {
        var store = Store();
        var id = store.Create(Draft(4));
        var judge = store.NewJudge(id);
        JudgeProgress p = store.Progress(id, judge);
        Assert.Empty(p.Answered);
        for (int i = 0; i < 4; i++) p = store.Answer(id, judge, i, real: true);   // right on 0 and 2 (real), wrong on 1 and 3
        Assert.True(p.Done);
        Assert.Equal(2, p.Correct);
        Assert.Equal(4, p.Total);
        Assert.Equal(2, store.Progress(id, judge).Correct);
    }

    [Fact]
    public void Answer_Twice_ThrowsInvalidOperationAndKeepsTheFirst()
    {
        var store = Store();
        var id = store.Create(Draft(4));
        var judge = store.NewJudge(id);
        store.Answer(id, judge, 1, real: true);
        var e = Assert.Throws<InvalidOperationException>(() => store.Answer(id, judge, 1, real: false));
        Assert.Contains("already judged", e.Message);
        var row = Assert.Single(store.Judgments(id));
        Assert.True(row.AnsweredReal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(4)]
    [InlineData(1000)]
    public void Answer_ImageNotInStudy_ThrowsArgument(int index)
    {
        var store = Store();
        var id = store.Create(Draft(4));
        var judge = store.NewJudge(id);
        Assert.Throws<ArgumentException>(() => store.Answer(id, judge, index, real: true));
        Assert.Empty(store.Judgments(id));
    }

    [Fact]
    public void Answer_JudgeOfAnotherStudyOrUnknown_ThrowsKeyNotFound()
    {
        var store = Store();
        var a = store.Create(Draft(4));
        var b = store.Create(Draft(4));
        var judgeOfB = store.NewJudge(b);
        Assert.Throws<KeyNotFoundException>(() => store.Answer(a, judgeOfB, 0, real: true));
        Assert.Throws<KeyNotFoundException>(() => store.Answer(a, StudyStore.NewId(), 0, real: true));
        Assert.Throws<KeyNotFoundException>(() => store.Answer(a, "'; DROP TABLE judgments; --", 0, real: true));
        Assert.Throws<KeyNotFoundException>(() => store.Get(StudyStore.NewId()));
    }

    [Fact]
    public void AnswerPair_Pick_StoresTwoJudgmentsAndRefusesOutsideThePair()
    {
        var store = Store();
        var id = store.Create(Draft(4, pair: true));
        var judge = store.NewJudge(id);
        Assert.Throws<ArgumentException>(() => store.Answer(id, judge, 0, real: true));
        Assert.Throws<ArgumentException>(() => store.AnswerPair(id, judge, 0, 2));
        Assert.Throws<ArgumentException>(() => store.AnswerPair(id, judge, 2, 4));
        var p = store.AnswerPair(id, judge, 1, 2);   // image 2 is real: right
        Assert.Equal([2, 3], p.Answered);
        Assert.Throws<InvalidOperationException>(() => store.AnswerPair(id, judge, 1, 3));
        p = store.AnswerPair(id, judge, 0, 1);       // image 1 is generated: wrong twice
        Assert.Equal(2, p.Correct);
    }

    [Fact]
    public void Results_AfterReopening_CountEveryCommittedJudgment()
    {
        var id = Store().Create(Draft(6));
        for (int j = 0; j < 3; j++)
        {
            var store = Store();
            var judge = store.NewJudge(id);
            for (int i = 0; i < 6; i++) store.Answer(id, judge, i, real: i < 3);
        }
        var r = Store().Results(id);
        Assert.Equal(3, r.Judges);
        Assert.Equal(18, r.Judgments);
        var c = Assert.Single(r.Checkpoints);
        Assert.Equal((3, 9), (c.Fooled.Count, c.Fooled.Of));    // generated 1 judged real, 3 and 5 not
        Assert.Equal((12, 18), (c.Accuracy.Count, c.Accuracy.Of));
        Assert.Equal(3, c.Classes.Count);
    }

    [Fact]
    public void Csv_OneLinePerJudgment_WithKindAndCorrectness()
    {
        var store = Store();
        var id = store.Create(Draft(2));
        var judge = store.NewJudge(id);
        store.Answer(id, judge, 0, real: false);
        store.Answer(id, judge, 1, real: false);
        var lines = store.Csv(id).TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("judge,image,kind,checkpoint,class,class_name,answer,correct", lines[0]);
        Assert.Contains(",0,real,run-a,0,zero,generated,0,", lines[1]);
        Assert.Contains(",1,generated,run-a,1,one,generated,1,", lines[2]);
    }

    [Fact]
    public void ItemPng_ReturnsTheStoredBytes()
    {
        var store = Store();
        var id = store.Create(Draft(3));
        Assert.Equal(2, store.ItemPng(id, 2)[4]);
        Assert.Throws<ArgumentException>(() => store.ItemPng(id, 3));
    }
}
