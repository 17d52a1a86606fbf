using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan;

/// <summary>
/// A trained generator loaded from a checkpoint: samples, generation from given latents, and
/// latent interpolation. Uses the EMA weights when the run kept them.
/// </summary>
public sealed class Sampler
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
        var (tensors, state) = Checkpoint.Read(path);
        var config = state.Config;
        var model = Checkpoint.CreateModel(path, tensors, () => ModelZoo.Create(state.Model,
            new ModelSpec(state.ImageShape[0], state.ImageShape[1], state.LatentDim, config.Seed, TrainingSetup.Options(config))));
        var g = model.Generator;
        bool ema = useEma && state.HasEmaOf(GanModel.GeneratorName);
        string prefix = ema ? GanModel.GeneratorName + "_ema." : GanModel.GeneratorName + ".";
        Checkpoint.LoadInto(g, tensors, prefix, path, state.Model);
        g.Eval();
        return new Sampler(model, g, state, path, ema);
    }

    /// <summary>Generates <paramref name="count"/> images (N,C,H,W) in [-1,1] from N(0,I) latents drawn with <paramref name="seed"/>.</summary>
    public Tensor Sample(int count, ulong seed, int batchSize = 256)
    {
        var rng = new Generator(seed);
        var latents = Model.SampleLatent(count, rng);
        return FromLatents(latents.Reshape(count, Model.LatentDim), batchSize);
    }

    /// <summary>Generates one image per row of <paramref name="latents"/> (n, nz).</summary>
    public Tensor FromLatents(Tensor latents, int batchSize = 256)
    {
        if (latents.Rank != 2 || latents.Size(1) != Model.LatentDim)
            throw new ArgumentException($"Sampler: latents have shape {Shapes.Format(latents.ShapeSpan)}, expected (n,{Model.LatentDim})");
        int n = latents.Size(0);
        var output = new Tensor([n, .. Model.ImageShape]);
        int per = output.Numel / Math.Max(n, 1);
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < n; start += batchSize)
        {
            int b = Math.Min(batchSize, n - start);
            var z = Model.ShapeLatent(latents.Narrow(0, start, b));
            Generator.Forward(z).Data.CopyTo(output.Data.Slice(start * per, b * per));
        }
        return output;
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
