using GanForge.Data;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.Metrics.Evaluators;
using GanForge.NN;

namespace GanForge.Metrics.Evaluation;

/// <summary>
/// The evaluation run during training: FID and the class histogram of a few thousand samples from
/// fixed latents, against the cached reference split of the run's own data, logged as "fid",
/// "classes_covered" and "class_kl".
/// </summary>
public sealed class TrainingEvaluation : IEvaluationHook
{
    readonly EvaluationSuite _suite;
    readonly int _samples;
    readonly ulong _seed;

    /// <param name="suite">Evaluator network and real data (its reference is computed on first use).</param>
    /// <param name="samples">Generated images per evaluation.</param>
    /// <param name="seed">Seed of the latents, the same at every evaluation so scores differ only by the generator.</param>
    public TrainingEvaluation(EvaluationSuite suite, int samples = 2000, ulong seed = 0)
    {
        if (samples < 2) throw new ArgumentException($"TrainingEvaluation: {samples} samples; need at least 2");
        _suite = suite;
        _samples = samples;
        _seed = seed;
    }

    /// <summary>What is scored against what, in one line for the console.</summary>
    public string Description { get; init; } = "";

    /// <summary>The built-in Fashion-MNIST evaluator against the Fashion-MNIST test split, cached in the default folder.</summary>
    public static TrainingEvaluation FashionMnist(int samples, ulong seed) => ForData("fashion-mnist", samples, seed);

    /// <summary>
    /// The built-in evaluator (a Fashion-MNIST classifier) against the run's own data, as train resolved it
    /// (<see cref="DataSpec"/>, class filters included): its test split where it has one, else all of it;
    /// reference features cached in the default folder. The evaluator reads 1x28x28 images, so other data is
    /// refused here, before training starts, rather than scored by a network that never saw its kind.
    /// </summary>
    /// <param name="spec">The run's data spec.</param>
    /// <param name="samples">Generated images per evaluation.</param>
    /// <param name="seed">Seed of the latents.</param>
    /// <param name="options">The run's data options (channels, image size), so the reference is what the generator learns; null for none.</param>
    /// <exception cref="ArgumentException">The data is not 1x28x28.</exception>
    public static TrainingEvaluation ForData(string spec, int samples, ulong seed, DataOptions? options = null)
    {
        var reference = DataSpec.Resolve(spec, "test", 0, options ?? DataOptions.Default);
        var (image, _) = reference.Dataset.Get(0);
        var shape = string.Join("x", image.Shape);
        if (shape != "1x28x28")
            throw new ArgumentException($"--eval-every: the built-in evaluator is a Fashion-MNIST classifier and scores 1x28x28 images; data '{spec}' is {shape} " +
                "(train without --eval-every)");
        var extractor = EvaluatorRegistry.Load();
        var real = new RealData(spec, reference.Dataset.ToTensorDataset($"{spec} {reference.Split}"), Train: null, reference.Split);
        return new(new EvaluationSuite(extractor, real, RealReference.DefaultCacheFolder), samples, seed)
        {
            Description = $"FID and classes of {samples} samples by {extractor.Name} against '{spec}' ({reference.Description})",
        };
    }

    public IReadOnlyDictionary<string, double> Evaluate(GanModel model, Module generator, long step)
    {
        var images = Generate(model, generator, _samples, _seed);
        var result = _suite.Evaluate(images, new EvaluationOptions { Metrics = ["fid", "class_histogram"], Floor = false, Seed = _seed });
        var fid = result.Scores.First(s => s.Name == "fid");
        var histogram = result.Scores.FirstOrDefault(s => s.Name == "class_histogram");
        var scores = new Dictionary<string, double> { [Stats.Fid.Name] = fid.Value };
        if (histogram != null)
        {
            scores[Stats.ClassesCovered.Name] = histogram.Extras["classes_covered"];
            scores[Stats.ClassKl.Name] = histogram.Extras["kl_data_fake"];
        }
        return scores;
    }

    /// <summary>
    /// <paramref name="count"/> images (N,C,H,W) from <paramref name="generator"/> with latents drawn from <paramref name="seed"/>;
    /// a conditional model's classes go round 0, 1, ..., C-1, so every class is equally represented.
    /// </summary>
    public static Tensor Generate(GanModel model, Module generator, int count, ulong seed, int batchSize = 256)
    {
        var rng = new Generator(seed);
        var output = new Tensor([count, .. model.ImageShape]);
        int per = output.Numel / count;
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < count; start += batchSize)
        {
            int b = Math.Min(batchSize, count - start);
            var classes = model.BalancedClasses(start + b)?.Narrow(0, start, b);
            model.GenerateInto(model.SampleLatents(b, rng, classes), output.Data.Slice(start * per, b * per), generator);
        }
        return output;
    }
}
