using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan;

/// <summary>What to fix when sampling: the class of a conditional model, InfoGAN's categorical value and continuous codes (by index from 0).</summary>
public sealed record SampleConditions(int? Class = null, int? Category = null, IReadOnlyDictionary<int, float>? Continuous = null)
{
    /// <summary>
    /// Conditions from the command line: a class, and codes as "cat=K" (InfoGAN's categorical value) or "cN=V" (its
    /// N-th continuous code, from 1). A malformed code is an ArgumentException quoting it.
    /// </summary>
    public static SampleConditions Parse(int? @class, IEnumerable<string> codes)
    {
        int? category = null;
        var continuous = new Dictionary<int, float>();
        foreach (var code in codes)
        {
            var parts = code.Split('=', 2);
            string key = parts[0].Trim().ToLowerInvariant();
            string value = parts.Length == 2 ? parts[1].Trim() : "";
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            if (key == "cat" && int.TryParse(value, System.Globalization.NumberStyles.Integer, inv, out var k)) category = k;
            else if (key.Length > 1 && key[0] == 'c' && int.TryParse(key[1..], System.Globalization.NumberStyles.None, inv, out var j) && j >= 1
                && float.TryParse(value, System.Globalization.NumberStyles.Float, inv, out var v) && float.IsFinite(v))
                continuous[j - 1] = v;
            else throw new ArgumentException($"--code '{code}': expected cat=K (the categorical value) or cN=V (continuous code N from 1, a number)");
        }
        return new SampleConditions(@class, category, continuous.Count > 0 ? continuous : null);
    }
}

/// <summary>
/// A trained generator loaded from a checkpoint: samples, generation from given latents, and
/// latent interpolation. Uses the EMA weights when the run kept them.
/// </summary>
public sealed partial class Sampler
{
    public GanModel Model { get; }
    public Module Generator { get; }
    public CheckpointState State { get; }
    public string Path { get; }

    /// <summary>True when <see cref="Generator"/> holds the run's EMA weights rather than the raw ones.</summary>
    public bool UsesEma { get; }

    Sampler(GanModel model, Module generator, CheckpointState state, string path, bool usesEma)
    { Model = model; Generator = generator; State = state; Path = path; UsesEma = usesEma; }

    /// <summary>Loads the generator of a run folder or checkpoint file.</summary>
    public static Sampler Load(string checkpoint, bool useEma = true)
    {
        var path = Checkpoint.Locate(checkpoint);
        var (tensors, state) = Checkpoint.Read(path, Checkpoint.Under(GanModel.GeneratorName + ".", GanModel.GeneratorName + "_ema."));
        if (ModelZoo.Get(state.Model).Data != TrainingData.Images)
            throw new ArgumentException($"{path} holds a {state.Model} run, which makes images from images, not from noise; " +
                                        $"use `ganforge {(ModelZoo.Get(state.Model) is SrGan ? "upscale" : "translate")} --checkpoint DIR --images IN --out OUT`");
        var config = state.Config;
        var model = Checkpoint.CreateModelToLoad(path, state, () => ModelZoo.Create(state.Model,
            new ModelSpec(state.ImageShape[0], state.ImageShape[1], state.LatentDim, config.Seed, TrainingSetup.Options(config))));
        var g = model.Generator;
        bool ema = useEma && state.HasEmaOf(GanModel.GeneratorName);
        string prefix = ema ? GanModel.GeneratorName + "_ema." : GanModel.GeneratorName + ".";
        Checkpoint.LoadInto(g, tensors, prefix, path, state.Model);
        g.Eval();
        return new Sampler(model, g, state, path, ema);
    }

    /// <summary>Generates <paramref name="count"/> images (N,C,H,W) in [-1,1] from N(0,I) latents drawn with <paramref name="seed"/> (classes balanced).</summary>
    public Tensor Sample(int count, ulong seed, int batchSize = 256) => Generate(Latents(count, seed), batchSize);

    /// <summary>
    /// The latents of <paramref name="count"/> samples drawn with <paramref name="seed"/>: z ~ N(0, I); for a conditional
    /// generator the classes of <paramref name="conditions"/> (one class, or 0, 1, ..., C-1 in turn); for InfoGAN its codes
    /// (uniform unless <paramref name="conditions"/> fixes some).
    /// </summary>
    public Latents Latents(int count, ulong seed, SampleConditions? conditions = null)
    {
        conditions ??= new SampleConditions();
        CheckConditions(conditions);
        var rng = new Generator(seed);
        Tensor? classes = null;
        if (Model.Classes > 0)
        {
            classes = conditions.Class is int k ? Tensor.Full([count], k) : Model.BalancedClasses(count);
        }
        var latents = Model.SampleLatents(count, rng, classes);
        if (Model.Codes is { } codes && latents.Codes is { } values)
        {
            var v = values.Data;
            for (int i = 0; i < count; i++)
            {
                if (conditions.Category is int c)
                {
                    v.Slice(i * codes.Width, codes.Categories).Clear();
                    v[i * codes.Width + c] = 1f;
                }
                foreach (var (j, value) in conditions.Continuous ?? new Dictionary<int, float>())
                    v[i * codes.Width + codes.Categories + j] = value;
            }
        }
        return latents;
    }

    /// <summary>Images (N,C,H,W) in [-1,1] for <paramref name="latents"/>, in batches.</summary>
    public Tensor Generate(Latents latents, int batchSize = 256)
    {
        int n = latents.Count;
        var output = new Tensor([n, .. Model.ImageShape]);
        int per = output.Numel / Math.Max(n, 1);
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < n; start += batchSize)
        {
            int b = Math.Min(batchSize, n - start);
            Model.GenerateInto(latents.Slice(start, b), output.Data.Slice(start * per, b * per), Generator);
        }
        return output;
    }

    /// <summary>
    /// Generates one image per row of <paramref name="latents"/> (n, nz); a conditional model draws the classes of
    /// <paramref name="conditions"/>, InfoGAN's codes are drawn with seed 0 unless fixed there.
    /// </summary>
    public Tensor FromLatents(Tensor latents, int batchSize = 256, SampleConditions? conditions = null) =>
        Generate(LatentsFor(latents, conditions), batchSize);

    /// <summary>Given noise <paramref name="z"/> (n, nz) with the classes and codes of <paramref name="conditions"/> (InfoGAN's other codes drawn with seed 0).</summary>
    public Latents LatentsFor(Tensor z, SampleConditions? conditions = null)
    {
        if (z.Rank != 2 || z.Size(1) != Model.LatentDim)
            throw new ArgumentException($"Sampler: latents have shape {Shapes.Format(z.ShapeSpan)}, expected (n,{Model.LatentDim})");
        return Latents(z.Size(0), 0, conditions) with { Z = z };
    }

    /// <summary>
    /// A grid that shows what the model's conditions do: for a class-conditional model one row per class and one
    /// column per noise vector (the same z down each column); for InfoGAN one row per categorical value and columns
    /// sweeping continuous code <paramref name="code"/> (from 0) from -2 to 2, z and the other codes fixed. Returns the
    /// images row by row and the number of columns.
    /// </summary>
    public (Tensor Images, int Columns) Sweep(ulong seed, int columns = 10, int code = 0)
    {
        if (columns < 2) throw new ArgumentException($"sweep: --columns must be at least 2, got {columns}");
        var rng = new Generator(seed);
        int nz = Model.LatentDim;
        if (Model.Classes > 0)
        {
            int n = Model.Classes * columns;
            var z = Tensor.Randn([columns, nz], rng);
            var (tiled, classes) = (new Tensor(n, nz), new Tensor(n));
            for (int i = 0; i < n; i++)
            {
                z.Data.Slice(i % columns * nz, nz).CopyTo(tiled.Data.Slice(i * nz));   // column j: noise j
                classes.Data[i] = i / columns;                                          // row k: class k
            }
            return (Generate(new Latents(tiled, classes, Model.Codes?.Sample(n, rng))), columns);
        }
        if (Model.Codes is { } codes)
        {
            if (code < 0 || code >= codes.Continuous)
                throw new ArgumentException($"sweep: continuous code c{code + 1} does not exist (the model has {codes.Continuous})");
            int n = Math.Max(codes.Categories, 1) * columns;
            var z = Tensor.Randn([1, nz], rng);
            var (tiled, values) = (new Tensor(n, nz), new Tensor(n, codes.Width));
            for (int i = 0; i < n; i++)
            {
                z.Data.CopyTo(tiled.Data.Slice(i * nz));
                if (codes.Categories > 0) values.Data[i * codes.Width + i / columns] = 1f;                          // row: the category
                values.Data[i * codes.Width + codes.Categories + code] = -2f + 4f * (i % columns) / (columns - 1);  // column: the code
            }
            return (Generate(new Latents(tiled, null, values)), columns);
        }
        throw new ArgumentException($"sweep: model '{Model.Name}' has neither classes nor codes (cgan, acgan and infogan have)");
    }

    /// <summary>Checks <paramref name="conditions"/> against the model: a class only for a conditional model, codes only for InfoGAN, each in range.</summary>
    void CheckConditions(SampleConditions conditions)
    {
        if (conditions.Class is int k && (Model.Classes == 0 || k < 0 || k >= Model.Classes))
            throw new ArgumentException(Model.Classes == 0
                ? $"--class: model '{Model.Name}' is not class-conditional (cgan and acgan are)"
                : $"--class {k}: model '{Model.Name}' has classes 0 to {Model.Classes - 1}");
        var codes = Model.Codes;
        if (conditions.Category is int cat && (codes is not { Categories: > 0 } || cat < 0 || cat >= codes.Categories))
            throw new ArgumentException(codes is not { Categories: > 0 }
                ? $"--code cat={cat}: model '{Model.Name}' has no categorical code (infogan has)"
                : $"--code cat={cat}: the categorical code takes 0 to {codes.Categories - 1}");
        foreach (var (j, value) in conditions.Continuous ?? new Dictionary<int, float>())
            if (codes is null || j < 0 || j >= codes.Continuous || !float.IsFinite(value))
                throw new ArgumentException(codes is null || codes.Continuous == 0
                    ? $"--code c{j + 1}={value}: model '{Model.Name}' has no continuous codes (infogan has)"
                    : $"--code c{j + 1}={value}: the model has continuous codes c1 to c{codes.Continuous}, each a finite number");
    }

    /// <summary>
    /// The frames of an interpolation through <paramref name="points"/> latent points, <paramref name="steps"/> per
    /// segment: (points-1)·steps + 1; an ArgumentException when their images would not fit in one tensor.
    /// </summary>
    public int FrameCount(int points, int steps)
    {
        long frames = (long)(points - 1) * steps + 1, perImage = Model.ImageShape.Aggregate(1L, (a, b) => a * b);
        long max = Array.MaxLength / Math.Max(perImage, Model.LatentDim);
        if (frames > max)
            throw new ArgumentException($"interpolate: {points} points with --steps {steps} make {frames} frames; at most {max} frames of {string.Join("x", Model.ImageShape)} fit in memory at once");
        return (int)frames;
    }

    /// <summary>
    /// Latents along a path through <paramref name="points"/> (k, nz), <paramref name="steps"/> per segment,
    /// spherical (slerp, suited to Gaussian latents) or linear.
    /// </summary>
    public static Tensor InterpolateLatents(Tensor points, int steps, bool spherical = true)
    {
        int k = points.Size(0), nz = points.Size(1);
        if (k < 2) throw new ArgumentException("Interpolate: need at least two latent points");
        long frames = (long)(k - 1) * steps + 1;
        if (steps < 1 || frames * nz > Array.MaxLength)
            throw new ArgumentException($"Interpolate: {k} points with {steps} steps make {frames} frames of {nz} latent values; steps must be at least 1 and the frames fit in one tensor");
        var result = new Tensor((int)frames, nz);
        var p = points.Data; var r = result.Data;
        int row = 0;
        for (int s = 0; s < k - 1; s++)
        {
            var a = p.Slice(s * nz, nz); var b = p.Slice((s + 1) * nz, nz);
            for (int t = 0; t < steps; t++, row++)
                Mix(a, b, (float)t / steps, spherical, r.Slice(row * nz, nz));
        }
        p.Slice((k - 1) * nz, nz).CopyTo(r.Slice(row * nz, nz));
        return result;
    }

    /// <summary>The point a fraction <paramref name="t"/> of the way from latent <paramref name="a"/> to <paramref name="b"/>, spherical (slerp) or linear.</summary>
    public static float[] Mix(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float t, bool spherical = true)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Interpolate: latents of {a.Length} and {b.Length} values");
        var y = new float[a.Length];
        Mix(a, b, t, spherical, y);
        return y;
    }

    // slerp(a, b; t) = sin((1-t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b, Ω the angle between a and b
    static void Mix(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float t, bool spherical, Span<float> y)
    {
        double wa = 1 - t, wb = t;
        if (spherical)
        {
            double dot = 0, na = 0, nb = 0;
            for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
            double omega = Math.Acos(Math.Clamp(dot / Math.Sqrt(na * nb + 1e-12), -1, 1));
            if (omega > 1e-4)
            {
                double so = Math.Sin(omega);
                wa = Math.Sin((1 - t) * omega) / so; wb = Math.Sin(t * omega) / so;
            }
        }
        for (int i = 0; i < a.Length; i++) y[i] = (float)(wa * a[i] + wb * b[i]);
    }
}
