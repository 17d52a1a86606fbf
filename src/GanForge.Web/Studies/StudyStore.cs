using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace GanForge.Web.Studies;

/// <summary>One image of a study as it is stored: its place, kind, checkpoint group, class and PNG bytes.</summary>
public sealed record StudyItem(int Index, bool Generated, int Group, int Class, byte[] Png);

/// <summary>A study before it is stored: the images in the order judges see them, and what they came from.</summary>
/// <param name="Real">The real data spec.</param>
/// <param name="Checkpoints">The checkpoints compared, by group index.</param>
/// <param name="ClassNames">Names of the class labels (empty when the data has none).</param>
/// <param name="Pair">True when judges see a real and a generated image side by side (items 2p and 2p+1) and pick the real one.</param>
/// <param name="Seed">The seed the images were drawn and shuffled with.</param>
/// <param name="Items">The images, indexed 0..n-1 in display order.</param>
public sealed record StudyDraft(string Real, IReadOnlyList<string> Checkpoints, IReadOnlyList<string> ClassNames, bool Pair, ulong Seed,
    IReadOnlyList<StudyItem> Items);

/// <summary>What anyone with a study's link may know of it (never which images are real).</summary>
public sealed record StudyInfo(string Id, DateTime CreatedUtc, int Images, bool Pair);

/// <summary>A judge's place in a study: what they answered, and their score once every image is judged.</summary>
/// <param name="Judge">The judge's id.</param>
/// <param name="Answered">The item indices answered, ascending.</param>
/// <param name="Total">Images in the study.</param>
/// <param name="Correct">Correct answers, given only when <see cref="Done"/>.</param>
public sealed record JudgeProgress(string Judge, IReadOnlyList<int> Answered, int Total, int? Correct)
{
    /// <summary>True when every image is judged.</summary>
    public bool Done => Answered.Count == Total;
}

/// <summary>
/// Turing-test studies in one SQLite file: studies, their images, judges and judgments (one row each, committed
/// before the answer is acknowledged). WAL journal with full sync, so a server killed at any moment keeps every
/// judgment it acknowledged.
/// </summary>
public sealed class StudyStore
{
    /// <summary>The SQLite file.</summary>
    public string Path { get; }

    readonly string _connection;

    /// <summary>Opens (creating when missing) the study database at <paramref name="path"/>.</summary>
    public StudyStore(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(Path) is { } dir) Directory.CreateDirectory(dir);
        _connection = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, DefaultTimeout = 30 }.ToString();
        try { CreateSchema(); }
        catch (SqliteException e) { throw new InvalidDataException($"{Path} is not a GanForge study database: {e.Message}", e); }
    }

    void CreateSchema()
    {
        using var c = Open();
        Execute(c, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS studies(
                id TEXT PRIMARY KEY, created TEXT NOT NULL, real TEXT NOT NULL, pair INTEGER NOT NULL, seed TEXT NOT NULL,
                images INTEGER NOT NULL, checkpoints TEXT NOT NULL, classes TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS items(
                study TEXT NOT NULL REFERENCES studies(id), idx INTEGER NOT NULL, generated INTEGER NOT NULL,
                grp INTEGER NOT NULL, class INTEGER NOT NULL, png BLOB NOT NULL, PRIMARY KEY(study, idx));
            CREATE TABLE IF NOT EXISTS judges(
                id TEXT PRIMARY KEY, study TEXT NOT NULL REFERENCES studies(id), created TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS judgments(
                study TEXT NOT NULL, judge TEXT NOT NULL REFERENCES judges(id), idx INTEGER NOT NULL,
                answer_real INTEGER NOT NULL, at TEXT NOT NULL,
                PRIMARY KEY(judge, idx), FOREIGN KEY(study, idx) REFERENCES items(study, idx));
            """);
    }

    SqliteConnection Open()
    {
        var c = new SqliteConnection(_connection);
        c.Open();
        // Per connection: a commit reaches the disk before it returns; foreign keys are checked.
        Execute(c, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;");
        return c;
    }

    static void Execute(SqliteConnection c, string sql, SqliteTransaction? t = null, params (string, object)[] args)
    {
        using var cmd = Command(c, sql, t, args);
        cmd.ExecuteNonQuery();
    }

    static SqliteCommand Command(SqliteConnection c, string sql, SqliteTransaction? t, params (string Name, object Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = t;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value);
        return cmd;
    }

    /// <summary>An unguessable id: 128 random bits from the OS generator, base64url (22 characters).</summary>
    public static string NewId() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>True when <paramref name="id"/> has the form of an id made by <see cref="NewId"/>.</summary>
    public static bool IsId(string? id) => id is { Length: 22 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    static string CheckId(string? id, string what) =>
        IsId(id) ? id! : throw new KeyNotFoundException($"no {what} '{Runs.RunCatalog.Shorten(id)}'");

    /// <summary>Stores <paramref name="draft"/> in one transaction; returns the new study's id.</summary>
    public string Create(StudyDraft draft)
    {
        if (draft.Items.Count == 0) throw new ArgumentException("study: no images");
        var id = NewId();
        using var c = Open();
        using var t = c.BeginTransaction();
        Execute(c, "INSERT INTO studies VALUES ($id, $created, $real, $pair, $seed, $images, $checkpoints, $classes)", t,
            ("$id", id), ("$created", Now()), ("$real", draft.Real), ("$pair", draft.Pair ? 1 : 0),
            ("$seed", draft.Seed.ToString(CultureInfo.InvariantCulture)), ("$images", draft.Items.Count),
            ("$checkpoints", JsonSerializer.Serialize(draft.Checkpoints)), ("$classes", JsonSerializer.Serialize(draft.ClassNames)));
        foreach (var item in draft.Items)
            Execute(c, "INSERT INTO items VALUES ($study, $idx, $generated, $grp, $class, $png)", t,
                ("$study", id), ("$idx", item.Index), ("$generated", item.Generated ? 1 : 0), ("$grp", item.Group), ("$class", item.Class), ("$png", item.Png));
        t.Commit();
        return id;
    }

    static string Now() => DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    static DateTime ParseTime(string s) => DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    /// <summary>The public facts of study <paramref name="id"/>; a <see cref="KeyNotFoundException"/> when there is none.</summary>
    public StudyInfo Get(string? id)
    {
        CheckId(id, "study");
        using var c = Open();
        using var cmd = Command(c, "SELECT created, images, pair FROM studies WHERE id = $id", null, ("$id", id!));
        using var r = cmd.ExecuteReader();
        if (!r.Read()) throw new KeyNotFoundException($"no study '{id}'");
        return new StudyInfo(id!, ParseTime(r.GetString(0)), r.GetInt32(1), r.GetInt32(2) != 0);
    }

    /// <summary>The PNG of image <paramref name="index"/> of study <paramref name="id"/>.</summary>
    public byte[] ItemPng(string? id, int index)
    {
        var info = Get(id);
        CheckItem(info, index);
        using var c = Open();
        using var cmd = Command(c, "SELECT png FROM items WHERE study = $id AND idx = $idx", null, ("$id", id!), ("$idx", index));
        return (byte[])cmd.ExecuteScalar()!;
    }

    static void CheckItem(StudyInfo info, int index)
    {
        if (index < 0 || index >= info.Images)
            throw new ArgumentException($"image {index} is not in study {info.Id} (it has images 0-{info.Images - 1})");
    }

    /// <summary>Registers a new judge of study <paramref name="id"/>; returns the judge's id.</summary>
    public string NewJudge(string? id)
    {
        Get(id);
        var judge = NewId();
        using var c = Open();
        Execute(c, "INSERT INTO judges VALUES ($id, $study, $created)", null, ("$id", judge), ("$study", id!), ("$created", Now()));
        return judge;
    }

    /// <summary>Where judge <paramref name="judge"/> stands in study <paramref name="id"/>.</summary>
    public JudgeProgress Progress(string? id, string? judge)
    {
        var info = Get(id);
        using var c = Open();
        CheckJudge(c, null, info.Id, judge);
        return Progress(c, info, judge!);
    }

    static void CheckJudge(SqliteConnection c, SqliteTransaction? t, string study, string? judge)
    {
        CheckId(judge, "judge");
        using var cmd = Command(c, "SELECT study FROM judges WHERE id = $id", t, ("$id", judge!));
        if (cmd.ExecuteScalar() is not string of || of != study) throw new KeyNotFoundException($"no judge '{judge}' in study {study}");
    }

    static JudgeProgress Progress(SqliteConnection c, StudyInfo info, string judge)
    {
        var answered = new List<int>();
        int correct = 0;
        using (var cmd = Command(c, """
            SELECT j.idx, j.answer_real, i.generated FROM judgments j JOIN items i ON i.study = j.study AND i.idx = j.idx
            WHERE j.judge = $judge ORDER BY j.idx
            """, null, ("$judge", judge)))
        using (var r = cmd.ExecuteReader())
            while (r.Read())
            {
                answered.Add(r.GetInt32(0));
                if ((r.GetInt32(1) != 0) != (r.GetInt32(2) != 0)) correct++;
            }
        return new JudgeProgress(judge, answered, info.Images, answered.Count == info.Images ? correct : null);
    }

    /// <summary>
    /// Records judge <paramref name="judge"/>'s answer for image <paramref name="index"/> (true: "real"), committed
    /// before it returns. An image already answered by this judge is an <see cref="InvalidOperationException"/>; one that is
    /// not in the study an <see cref="ArgumentException"/>. In a pair study use <see cref="AnswerPair"/>.
    /// </summary>
    public JudgeProgress Answer(string? id, string? judge, int index, bool real)
    {
        var info = Get(id);
        if (info.Pair) throw new ArgumentException($"study {info.Id} shows pairs: answer with the pair and the image picked as real");
        CheckItem(info, index);
        return Record(info, judge, [(index, real)]);
    }

    /// <summary>
    /// Records a pick in a pair study: of pair <paramref name="pair"/> (images 2p and 2p+1), image <paramref name="realIndex"/>
    /// was picked as the real one; stored as two judgments (the picked image "real", the other "generated") in one transaction.
    /// </summary>
    public JudgeProgress AnswerPair(string? id, string? judge, int pair, int realIndex)
    {
        var info = Get(id);
        if (!info.Pair) throw new ArgumentException($"study {info.Id} shows one image at a time: answer each image");
        if (pair < 0 || pair >= info.Images / 2)
            throw new ArgumentException($"pair {pair} is not in study {info.Id} (it has pairs 0-{info.Images / 2 - 1})");
        int a = 2 * pair, b = 2 * pair + 1;
        if (realIndex != a && realIndex != b) throw new ArgumentException($"image {realIndex} is not in pair {pair} (images {a} and {b})");
        return Record(info, judge, [(a, realIndex == a), (b, realIndex == b)]);
    }

    JudgeProgress Record(StudyInfo info, string? judge, (int Index, bool Real)[] answers)
    {
        using var c = Open();
        using (var t = c.BeginTransaction(deferred: false))
        {
            CheckJudge(c, t, info.Id, judge);
            foreach (var (index, real) in answers)
            {
                try
                {
                    Execute(c, "INSERT INTO judgments VALUES ($study, $judge, $idx, $real, $at)", t,
                        ("$study", info.Id), ("$judge", judge!), ("$idx", index), ("$real", real ? 1 : 0), ("$at", Now()));
                }
                catch (SqliteException e) when (e.SqliteErrorCode == 19)   // SQLITE_CONSTRAINT: the primary key (judge, image)
                {
                    throw new InvalidOperationException($"image {index} of study {info.Id} was already judged by this judge");
                }
            }
            t.Commit();
        }
        return Progress(c, info, judge!);
    }

    /// <summary>Every judgment of study <paramref name="id"/>, with the image's kind, group and class, in the order made.</summary>
    public IReadOnlyList<JudgmentRow> Judgments(string? id)
    {
        Get(id);
        var rows = new List<JudgmentRow>();
        using var c = Open();
        using var cmd = Command(c, """
            SELECT j.judge, j.idx, i.generated, i.grp, i.class, j.answer_real, j.at FROM judgments j
            JOIN items i ON i.study = j.study AND i.idx = j.idx WHERE j.study = $id ORDER BY j.rowid
            """, null, ("$id", id!));
        using var r = cmd.ExecuteReader();
        while (r.Read())
            rows.Add(new JudgmentRow(r.GetString(0), r.GetInt32(1), r.GetInt32(2) != 0, r.GetInt32(3), r.GetInt32(4), r.GetInt32(5) != 0, ParseTime(r.GetString(6))));
        return rows;
    }

    /// <summary>The results of study <paramref name="id"/>.</summary>
    public StudyResults Results(string? id)
    {
        var (real, checkpoints, classes, info) = Describe(id);
        var judgments = Judgments(id).Select(j => new Judgment(j.Judge, j.Group, j.Generated, j.Class, j.AnsweredReal)).ToList();
        return StudyTally.Count(info.Id, info.CreatedUtc, real, info.Images, info.Pair, checkpoints, classes, judgments);
    }

    /// <summary>The study's real data spec, checkpoints and class names.</summary>
    public (string Real, IReadOnlyList<string> Checkpoints, IReadOnlyList<string> Classes, StudyInfo Info) Describe(string? id)
    {
        var info = Get(id);
        using var c = Open();
        using var cmd = Command(c, "SELECT real, checkpoints, classes FROM studies WHERE id = $id", null, ("$id", id!));
        using var r = cmd.ExecuteReader();
        r.Read();
        return (r.GetString(0), JsonSerializer.Deserialize<string[]>(r.GetString(1)) ?? [], JsonSerializer.Deserialize<string[]>(r.GetString(2)) ?? [], info);
    }

    /// <summary>Every judgment of study <paramref name="id"/> as CSV: a header, then one line per judgment.</summary>
    public string Csv(string? id)
    {
        var (_, checkpoints, classes, _) = Describe(id);
        var sb = new System.Text.StringBuilder("judge,image,kind,checkpoint,class,class_name,answer,correct,time_utc\n");
        foreach (var j in Judgments(id))
        {
            string className = j.Class >= 0 && j.Class < classes.Count ? classes[j.Class] : "";
            sb.Append(CultureInfo.InvariantCulture, $"{j.Judge},{j.Index},{(j.Generated ? "generated" : "real")},{CsvField(checkpoints[j.Group])},")
              .Append(CultureInfo.InvariantCulture, $"{j.Class},{CsvField(className)},{(j.AnsweredReal ? "real" : "generated")},{(j.AnsweredReal != j.Generated ? 1 : 0)},")
              .Append(j.AtUtc.ToString("O", CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }

    static string CsvField(string s)
    {
        // A spreadsheet runs a cell that starts with = + - @ as a formula: a checkpoint label must stay text.
        if (s.Length > 0 && s[0] is '=' or '+' or '-' or '@') s = "'" + s;
        return s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    }
}

/// <summary>One stored judgment with its image's facts.</summary>
public sealed record JudgmentRow(string Judge, int Index, bool Generated, int Group, int Class, bool AnsweredReal, DateTime AtUtc);
