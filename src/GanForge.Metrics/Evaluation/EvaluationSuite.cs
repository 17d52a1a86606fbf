using GanForge.Data;
using GanForge.Metrics.Evaluators;

namespace GanForge.Metrics.Evaluation;

/// <summary>Settings of <see cref="EvaluationSuite.Evaluate"/>.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Metrics to compute (registry names); null = every registered metric.</summary>
    public IReadOnlyList<string>? Metrics { get; init; }

    /// <summary>Also score a train-split subset of the same size as the fakes against the reference: the real-vs-real floor.</summary>
    public bool Floor { get; init; } = true;

    /// <summary>Seed of metric subsampling (KID subsets, memorisation subsets, the floor's train subset).</summary>
    public ulong Seed { get; init; }

    /// <summary>Generated and held-out images compared pixel-wise with training images for memorisation (its cost is quadratic).</summary>
    public int MemorisationSamples { get; init; } = 1000;

    /// <summary>Training images searched for each memorisation query.</summary>
    public int MemorisationTrain { get; init; } = 10000;

    /// <summary>Images per evaluator forward pass.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>The class each generated image was made for (a conditional generator): adds "class_accuracy".</summary>
    public int[]? FakeClasses { get; init; }

    /// <summary>InfoGAN's categorical code of each generated image: adds "code_agreement".</summary>
    public int[]? FakeCodes { get; init; }
}

/// <summary>Real data an evaluation compares against: the reference split and the training split.</summary>
/// <param name="Name">Data name for protocols and cache keys (the data spec, e.g. "fashion-mnist").</param>
/// <param name="Reference">The reference split, whose evaluator outputs every score is measured against.</param>
/// <param name="Train">The training split, for the floor and memorisation; null when only the reference is at hand.</param>
/// <param name="ReferenceSplit">Which split <paramref name="Reference"/> is: "test", or "all" for data without splits.</param>
public sealed record RealData(string Name, TensorDataset Reference, TensorDataset? Train, string ReferenceSplit = "test");

/// <summary>
/// Evaluates generated images against real data with an evaluator network: extracts features and
/// class probabilities, computes every requested metric against the reference split (whose evaluator
/// outputs are cached), and scores a same-sized real train subset the same way as the floor.
/// </summary>
public sealed class EvaluationSuite
{
    readonly IFeatureExtractor _extractor;
    readonly RealData _data;
    readonly string? _cacheFolder;
    RealReference? _reference;

    /// <param name="extractor">The feature network.</param>
    /// <param name="data">Real data.</param>
    /// <param name="cacheFolder">Where reference features are cached; null = no cache.</param>
    public EvaluationSuite(IFeatureExtractor extractor, RealData data, string? cacheFolder = null)
    {
        _extractor = extractor;
        _data = data;
        _cacheFolder = cacheFolder;
    }

    /// <summary>The feature network.</summary>
    public IFeatureExtractor Extractor => _extractor;

    /// <summary>Evaluator outputs of the whole reference split (computed once, cached).</summary>
    public RealReference Reference => _reference ??= RealReference.LoadOrCompute(_extractor,
        () => (Images(_data.Reference, Enumerable.Range(0, _data.Reference.Count).ToArray()), Labels(_data.Reference)),
        $"{_data.Name}-{_data.Reference.Source}-{_data.ReferenceSplit}", _data.Reference.Count, _cacheFolder);

    /// <summary>Scores <paramref name="fake"/> (N,C,H,W) in [-1, 1]; the options' seed is recorded in the protocol.</summary>
    public EvaluationResult Evaluate(Tensor fake, EvaluationOptions? options = null)
    {
        options ??= new EvaluationOptions();
        if (fake.Rank != 4 || fake.Size(0) < 2)
            throw new ArgumentException($"Evaluate: images {Shapes.Format(fake.ShapeSpan)} should be (N,C,H,W) with N >= 2");
        var names = options.Metrics ?? MetricRegistry.Names;
        foreach (var n in names) MetricRegistry.Get(n); // unknown names fail before any work
        var reference = Reference;
        int n0 = fake.Size(0);
        var protocol = new Protocol(_extractor.Name, _extractor.Layer, $"{_data.Name} {_data.ReferenceSplit}", reference.Count, n0, options.Seed);

        foreach (var (given, what) in new[] { (options.FakeClasses, nameof(options.FakeClasses)), (options.FakeCodes, nameof(options.FakeCodes)) })
            if (given != null && given.Length != n0)
                throw new ArgumentException($"Evaluate: {what} has {given.Length} entries for {n0} images");
        var scores = Score(fake, names, protocol, options, generated: true);
        IReadOnlyList<MetricResult>? floor = null;
        string floorDescription;
        if (options.Floor && _data.Train is { } train)
        {
            int m = Math.Min(n0, train.Count);
            var rows = new Generator(options.Seed ^ 0xF100A).Permutation(train.Count)[..m];
            var trainImages = Images(train, rows);
            var floorNames = names.Where(n => !n.Equals("memorisation", StringComparison.OrdinalIgnoreCase)).ToList();
            floor = Score(trainImages, floorNames, protocol with { NFake = m }, options);
            floorDescription = $"{m} random train-split images scored as if generated, against the {reference.Count} test images; " +
                "memorisation's floor is held-out test images' distance to the same training images";
        }
        else floorDescription = options.Floor ? "no train split available: floor not computed" : "floor not requested";
        return new EvaluationResult(protocol, scores, floor, floorDescription);
    }

    /// <param name="images">The images to score (N, C, H, W) in [-1, 1].</param>
    /// <param name="names">The metrics, by registry name.</param>
    /// <param name="protocol">Sample counts and splits the scores are computed under.</param>
    /// <param name="options">The run's evaluation options.</param>
    /// <param name="generated">The images are the generated ones, of which the options may say what each was made for.</param>
    List<MetricResult> Score(Tensor images, IReadOnlyList<string> names, Protocol protocol, EvaluationOptions options, bool generated = false)
    {
        var reference = Reference;
        var (features, probs) = _extractor.Extract(images, options.BatchSize);
        // Memorisation compares pixels, so it needs the training images and the same channel count (sizes are resized).
        bool needsPixels = names.Any(n => n.Equals("memorisation", StringComparison.OrdinalIgnoreCase))
            && _data.Train is { } t && t.Channels == images.Size(1);
        FeatureMatrix? fakePixels = null, trainPixels = null, heldOutPixels = null;
        if (needsPixels)
        {
            var g = new Generator(options.Seed ^ 0x3E3);
            var train = _data.Train!;
            int nq = Math.Min(options.MemorisationSamples, images.Size(0));
            var q = g.Permutation(images.Size(0))[..nq];
            fakePixels = Pixels(SelectRows(ResizeTo(images, train), q));
            trainPixels = Pixels(Images(train, g.Permutation(train.Count)[..Math.Min(options.MemorisationTrain, train.Count)]));
            heldOutPixels = Pixels(Images(_data.Reference, g.Permutation(_data.Reference.Count)[..Math.Min(nq, _data.Reference.Count)]));
        }
        var inputs = new MetricInputs
        {
            Protocol = protocol,
            RealFeatures = reference.Features,
            RealProbabilities = reference.Probabilities,
            RealLabels = reference.Labels,
            FakeFeatures = features,
            FakeProbabilities = probs == null ? null : FeatureMatrix.From(probs),
            FakeImages = fakePixels,
            TrainImages = trainPixels,
            HeldOutImages = heldOutPixels,
        };
        var results = new List<MetricResult>();
        foreach (var name in names)
        {
            var metric = MetricRegistry.Get(name);
            if (metric is Fid) metric = new Fid { RealStatistics = reference.Statistics };
            bool missing = (metric is InceptionScore or ClassHistogram && inputs.FakeProbabilities == null) || (metric is Memorisation && fakePixels == null);
            if (missing) continue; // e.g. a feature network without a classifier head, or no train split for memorisation
            results.Add(metric.Compute(inputs));
        }
        if (generated && inputs.FakeProbabilities is { } p)
        {
            if (options.FakeClasses is { } classes) results.Add(ConditionalScores.ClassAccuracy(p, classes, protocol));
            if (options.FakeCodes is { } codes) results.Add(ConditionalScores.CodeAgreement(codes, ClassHistogram.Argmax(p), protocol));
        }
        return results;
    }

    /// <summary>Images (N,C,H,W) in [-1, 1] of the given rows of <paramref name="data"/>.</summary>
    public static Tensor Images(TensorDataset data, int[] rows)
    {
        int per = data.Channels * data.Height * data.Width;
        var t = new Tensor(rows.Length, data.Channels, data.Height, data.Width);
        var d = t.Data;
        for (int i = 0; i < rows.Length; i++)
        {
            var src = data.ImageBytes(rows[i]);
            for (int j = 0; j < per; j++) d[i * per + j] = src[j] * (2f / 255f) - 1f;
        }
        return t;
    }

    static int[]? Labels(TensorDataset data) =>
        data.Classes.Count > 0 ? Enumerable.Range(0, data.Count).Select(data.Label).ToArray() : null;

    static Tensor SelectRows(Tensor x, int[] rows)
    {
        int per = x.Numel / x.Size(0);
        var t = new Tensor([rows.Length, .. x.Shape[1..]]);
        for (int i = 0; i < rows.Length; i++) x.Data.Slice(rows[i] * per, per).CopyTo(t.Data.Slice(i * per, per));
        return t;
    }

    static Tensor ResizeTo(Tensor x, TensorDataset like) =>
        x.Size(2) == like.Height && x.Size(3) == like.Width ? x
            : Tensor.Interpolate(x, new Size2(like.Height, like.Width), mode: "bilinear", alignCorners: false);

    static FeatureMatrix Pixels(Tensor x) => FeatureMatrix.From(x);
}
