namespace GanForge.Web.Studies;

/// <summary>A proportion with its 95% Wilson interval: <see cref="Count"/> of <see cref="Of"/>.</summary>
/// <param name="Count">Successes.</param>
/// <param name="Of">Trials.</param>
/// <param name="Value">Count / Of, null when there were no trials.</param>
/// <param name="Ci95">The 95% Wilson interval, null when there were no trials.</param>
public sealed record Rate(int Count, int Of, double? Value, Interval? Ci95)
{
    /// <summary>The rate of <paramref name="count"/> in <paramref name="of"/>, with its interval.</summary>
    public static Rate From(int count, int of) => new(count, of, of == 0 ? null : (double)count / of, Wilson.Interval(count, of));
}

/// <summary>One class's share of a checkpoint's results (real images by their label, generated ones by the evaluator's).</summary>
/// <param name="Class">The label; -1 for images no class was given to.</param>
/// <param name="Name">The class name.</param>
/// <param name="Judgments">Judgments of images of this class.</param>
/// <param name="Accuracy">Correct judgments among them.</param>
/// <param name="Fooled">Generated images of this class judged real.</param>
public sealed record ClassResult(int Class, string Name, int Judgments, Rate Accuracy, Rate Fooled);

/// <summary>One checkpoint's results: its generated images and the real images shown beside them (an equal number).</summary>
/// <param name="Checkpoint">The checkpoint as named when the study was made.</param>
/// <param name="Judges">Judges who judged at least one of these images.</param>
/// <param name="Judgments">Judgments of these images, real and generated.</param>
/// <param name="Accuracy">Correct judgments: real called real, generated called generated.</param>
/// <param name="Fooled">Generated images judged real: the "fooled rate" (50% when judges cannot tell, in a balanced study).</param>
/// <param name="RealJudgedReal">Real images judged real.</param>
/// <param name="Classes">By class, in label order.</param>
public sealed record CheckpointResult(string Checkpoint, int Judges, int Judgments, Rate Accuracy, Rate Fooled, Rate RealJudgedReal,
    IReadOnlyList<ClassResult> Classes);

/// <summary>A study's results: overall and per checkpoint.</summary>
public sealed record StudyResults(string Study, DateTime CreatedUtc, string Real, int Images, bool Pair, int Judges, int Judgments,
    Rate Accuracy, IReadOnlyList<CheckpointResult> Checkpoints);

/// <summary>One judgment as the results count it.</summary>
/// <param name="Judge">The judge's id.</param>
/// <param name="Group">The checkpoint group of the image (its index in the study's checkpoints).</param>
/// <param name="Generated">True for a generated image.</param>
/// <param name="Class">The image's class, -1 when none.</param>
/// <param name="AnsweredReal">The judge's answer: true for "real".</param>
public readonly record struct Judgment(string Judge, int Group, bool Generated, int Class, bool AnsweredReal)
{
    /// <summary>True when the answer names the image's true kind.</summary>
    public bool Correct => AnsweredReal != Generated;
}

/// <summary>Counts judgments into <see cref="StudyResults"/>.</summary>
public static class StudyTally
{
    /// <summary>The results of <paramref name="judgments"/> for a study of <paramref name="checkpoints"/> (by group index) and <paramref name="classNames"/>.</summary>
    public static StudyResults Count(string study, DateTime created, string real, int images, bool pair,
        IReadOnlyList<string> checkpoints, IReadOnlyList<string> classNames, IReadOnlyList<Judgment> judgments)
    {
        var perCheckpoint = new List<CheckpointResult>();
        for (int g = 0; g < checkpoints.Count; g++)
        {
            var mine = judgments.Where(j => j.Group == g).ToList();
            var generated = mine.Where(j => j.Generated).ToList();
            var realOnes = mine.Where(j => !j.Generated).ToList();
            var classes = mine.Select(j => j.Class).Distinct().Order().Select(c =>
            {
                var of = mine.Where(j => j.Class == c).ToList();
                var gen = of.Where(j => j.Generated).ToList();
                string name = c >= 0 && c < classNames.Count ? classNames[c] : c >= 0 ? $"class {c}" : "no class";
                return new ClassResult(c, name, of.Count, Rate.From(of.Count(j => j.Correct), of.Count), Rate.From(gen.Count(j => j.AnsweredReal), gen.Count));
            }).ToList();
            perCheckpoint.Add(new CheckpointResult(checkpoints[g], mine.Select(j => j.Judge).Distinct().Count(), mine.Count,
                Rate.From(mine.Count(j => j.Correct), mine.Count), Rate.From(generated.Count(j => j.AnsweredReal), generated.Count),
                Rate.From(realOnes.Count(j => j.AnsweredReal), realOnes.Count), classes));
        }
        return new StudyResults(study, created, real, images, pair, judgments.Select(j => j.Judge).Distinct().Count(), judgments.Count,
            Rate.From(judgments.Count(j => j.Correct), judgments.Count), perCheckpoint);
    }
}
