using System.Collections.Concurrent;
using GanForge.Data;
using GanForge.Data.Formats;
using GanForge.Gan;
using GanForge.Gan.Training;
using GanForge.Web.Runs;

namespace GanForge.Web.Explore;

/// <summary>What the explorer can move for a run's generator.</summary>
/// <param name="Run">The run.</param>
/// <param name="Model">The zoo variant.</param>
/// <param name="LatentDim">Size of z.</param>
/// <param name="ImageShape">(C,H,W) of an image.</param>
/// <param name="Step">The checkpoint's generator step.</param>
/// <param name="UsesEma">True when the images come from the run's EMA generator.</param>
/// <param name="Directions">Number of latent directions with a slider.</param>
/// <param name="Controls">The controls the model has: "directions", "psi", "walk" for every model; "class" for a
/// class-conditional generator (cgan, acgan); "category" and "codes" for InfoGAN's categorical and continuous codes.</param>
/// <param name="Classes">Classes of a conditional generator (0 otherwise).</param>
/// <param name="ClassNames">Names of the classes when the training data has them.</param>
/// <param name="Categories">Values of InfoGAN's categorical code (0 otherwise).</param>
/// <param name="ContinuousCodes">InfoGAN's continuous codes (0 otherwise).</param>
public sealed record ExplorerModel(string Run, string Model, int LatentDim, int[] ImageShape, long Step, bool UsesEma, int Directions,
    IReadOnlyList<string> Controls, int Classes = 0, IReadOnlyList<string>? ClassNames = null, int Categories = 0, int ContinuousCodes = 0);

/// <summary>Where in latent space to render.</summary>
/// <param name="Seed">The seed of z (as `ganforge sample --seed`).</param>
/// <param name="Offsets">How far to move along each latent direction (in units of the prior's standard deviation).</param>
/// <param name="Psi">Truncation ψ: z ← ψ·z pulls z toward the prior's mean (0); 1 leaves it.</param>
/// <param name="To">The seed of a second point to walk towards, or null.</param>
/// <param name="T">How far along the walk (spherical interpolation), 0 to 1.</param>
/// <param name="Conditions">The class of a conditional generator, InfoGAN's categorical value and continuous codes
/// (unset continuous codes are 0 here, so that the image moves only when a control does).</param>
public sealed record LatentPoint(ulong Seed, IReadOnlyList<float> Offsets, float Psi = 1f, ulong? To = null, float T = 0f,
    SampleConditions? Conditions = null);

/// <summary>
/// Renders a run's generator at chosen latent points, on the server with the engine: z from a seed, moved along
/// a few fixed orthonormal latent directions, scaled by ψ, or walked towards a second z. Generators are loaded once
/// per checkpoint file version and shared by requests.
/// </summary>
public sealed class LatentExplorer(RunCatalog runs)
{
    /// <summary>Latent directions with a slider.</summary>
    public const int DirectionCount = 5;

    /// <summary>Largest |offset| along a direction and largest ψ accepted.</summary>
    public const float MaxOffset = 5f, MaxPsi = 2f;

    /// <summary>Most frames of a walk strip.</summary>
    public const int MaxSteps = 32;

    readonly ConcurrentDictionary<string, (DateTime Stamp, Lazy<Sampler> Sampler)> _loaded = new();

    /// <summary>The generator of run <paramref name="run"/>'s checkpoint, loaded once per version of the file.</summary>
    Sampler Load(string run)
    {
        var path = runs.FileOf(run, Checkpoint.FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"run '{run}' has no checkpoint yet ({Checkpoint.FileName})");
        var stamp = File.GetLastWriteTimeUtc(path);
        var entry = _loaded.AddOrUpdate(run,
            _ => (stamp, new Lazy<Sampler>(() => Sampler.Load(path))),
            (_, old) => old.Stamp == stamp ? old : (stamp, new Lazy<Sampler>(() => Sampler.Load(path))));
        return entry.Sampler.Value;
    }

    /// <summary>The controls of run <paramref name="run"/>'s generator.</summary>
    public ExplorerModel Describe(string run)
    {
        var s = Load(run);
        var m = s.Model;
        var controls = new List<string> { "directions", "psi", "walk" };
        if (m.Classes > 0) controls.Add("class");
        if (m.Codes is { Categories: > 0 }) controls.Add("category");
        if (m.Codes is { Continuous: > 0 }) controls.Add("codes");
        return new ExplorerModel(run, s.State.Model, m.LatentDim, m.ImageShape, s.State.Step, s.UsesEma,
            Math.Min(DirectionCount, m.LatentDim), controls, m.Classes, m.Classes > 0 ? ClassNames(s) : null,
            m.Codes?.Categories ?? 0, m.Codes?.Continuous ?? 0);
    }

    /// <summary>The image at <paramref name="point"/> as PNG bytes.</summary>
    public byte[] Render(string run, LatentPoint point)
    {
        var s = Load(run);
        var z = Latent(s, point);
        Tensor image;
        lock (s) image = s.FromLatents(Tensor.FromArray(z, 1, z.Length), conditions: Conditions(s, point.Conditions));
        return PngEncoder.Encode(ByteImage.FromTensor(image.Reshape(s.Model.ImageShape), -1f, 1f));
    }

    /// <summary>A strip of <paramref name="steps"/> frames walking from seed <paramref name="from"/> to seed <paramref name="to"/> (spherically), as PNG bytes.</summary>
    public byte[] Walk(string run, ulong from, ulong to, int steps, IReadOnlyList<float> offsets, float psi, SampleConditions? conditions = null)
    {
        if (steps < 2 || steps > MaxSteps) throw new ArgumentException($"walk: steps must be 2-{MaxSteps}, got {steps}");
        var s = Load(run);
        int nz = s.Model.LatentDim;
        var frames = new float[steps * nz];
        for (int i = 0; i < steps; i++)
            Latent(s, new LatentPoint(from, offsets, psi, to, (float)i / (steps - 1))).CopyTo(frames, i * nz);
        Tensor images;
        lock (s) images = s.FromLatents(Tensor.FromArray(frames, steps, nz), conditions: Conditions(s, conditions));
        return PngEncoder.Encode(ImageGrid.Make(images, new ImageGridOptions { NRow = steps }));
    }

    /// <summary>The latent vector of <paramref name="p"/>: z(seed), walked towards z(to), moved along the directions, times ψ.</summary>
    internal static float[] Latent(Sampler s, LatentPoint p)
    {
        int nz = s.Model.LatentDim, dirs = Math.Min(DirectionCount, nz);
        if (p.Offsets.Count > dirs) throw new ArgumentException($"explore: {p.Offsets.Count} direction offsets given, the model has {dirs} directions");
        foreach (var o in p.Offsets)
            if (!float.IsFinite(o) || Math.Abs(o) > MaxOffset) throw new ArgumentException($"explore: offset {o} is outside [-{MaxOffset}, {MaxOffset}]");
        if (!float.IsFinite(p.Psi) || p.Psi < 0 || p.Psi > MaxPsi) throw new ArgumentException($"explore: psi {p.Psi} is outside [0, {MaxPsi}]");
        if (!float.IsFinite(p.T) || p.T < 0 || p.T > 1) throw new ArgumentException($"explore: t {p.T} is outside [0, 1]");

        var z = Draw(s, p.Seed);
        if (p.To is { } to && p.T > 0) z = Sampler.Mix(z, Draw(s, to), p.T);
        var directions = Directions(nz);
        for (int d = 0; d < p.Offsets.Count; d++)
            for (int i = 0; i < nz; i++) z[i] += p.Offsets[d] * directions[d][i];
        for (int i = 0; i < nz; i++) z[i] *= p.Psi;
        return z;
    }

    /// <summary>
    /// The conditions every frame gets: the class (0 unless given) of a conditional generator, InfoGAN's category (0
    /// unless given) and every continuous code (0 unless given), so no part of the image is drawn at random.
    /// </summary>
    static SampleConditions? Conditions(Sampler s, SampleConditions? given)
    {
        var m = s.Model;
        if (m.Classes == 0 && m.Codes == null)
        {
            if (given is { Class: not null } or { Category: not null } or { Continuous.Count: > 0 })
                throw new ArgumentException($"explore: model '{m.Name}' has neither classes nor codes");
            return null;
        }
        var continuous = new Dictionary<int, float>();
        for (int j = 0; j < (m.Codes?.Continuous ?? 0); j++) continuous[j] = 0f;
        foreach (var (j, v) in given?.Continuous ?? new Dictionary<int, float>()) continuous[j] = v;
        return new SampleConditions(m.Classes > 0 ? given?.Class ?? 0 : given?.Class,
            m.Codes is { Categories: > 0 } ? given?.Category ?? 0 : given?.Category,
            m.Codes != null || continuous.Count > 0 ? continuous : null);
    }

    /// <summary>Class names from the run's training data when it has them (Fashion-MNIST's), else the numbers.</summary>
    static IReadOnlyList<string> ClassNames(Sampler s)
    {
        var names = s.State.Config.Data.StartsWith("fashion-mnist", StringComparison.OrdinalIgnoreCase) || s.State.Config.Data.StartsWith("embedded", StringComparison.OrdinalIgnoreCase)
            ? FashionMnist.ClassNames : [];
        return names.Count == s.Model.Classes ? names : [.. Enumerable.Range(0, s.Model.Classes).Select(i => i.ToString())];
    }

    static float[] Draw(Sampler s, ulong seed) => Tensor.Randn([1, s.Model.LatentDim], new Generator(seed)).Data.ToArray();

    static readonly ConcurrentDictionary<int, float[][]> DirectionsBySize = new();

    /// <summary>
    /// <see cref="DirectionCount"/> orthonormal directions of R^nz, the same for every run of that latent size:
    /// Gaussian vectors from a fixed seed, made orthonormal by Gram-Schmidt. (Random directions of a Gaussian prior
    /// are as meaningful as any without a trained encoder; fixing them makes a slider's position reproducible.)
    /// </summary>
    internal static float[][] Directions(int nz) => DirectionsBySize.GetOrAdd(nz, n =>
    {
        int count = Math.Min(DirectionCount, n);
        var raw = Tensor.Randn([count, n], new Generator(0x5EED)).Data.ToArray();
        var result = new float[count][];
        for (int d = 0; d < count; d++)
        {
            var v = new double[n];
            for (int i = 0; i < n; i++) v[i] = raw[d * n + i];
            for (int e = 0; e < d; e++)
            {
                double dot = 0;
                for (int i = 0; i < n; i++) dot += v[i] * result[e][i];
                for (int i = 0; i < n; i++) v[i] -= dot * result[e][i];
            }
            double norm = Math.Sqrt(v.Sum(x => x * x));
            result[d] = v.Select(x => (float)(x / norm)).ToArray();
        }
        return result;
    });
}
