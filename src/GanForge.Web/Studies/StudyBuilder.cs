using GanForge.Data;
using GanForge.Data.Formats;
using GanForge.Gan;
using GanForge.Metrics;
using GanForge.Metrics.Evaluators;

namespace GanForge.Web.Studies;

/// <summary>What a new study is made of.</summary>
/// <param name="Checkpoints">Each generator compared: a label (how results name it) and its run folder or checkpoint file.</param>
/// <param name="Real">The real data spec (its test split is used), e.g. "fashion-mnist".</param>
/// <param name="Count">Images in the study, half real and half generated, split evenly between the checkpoints.</param>
/// <param name="Pair">Show a real and a generated image side by side instead of one image at a time.</param>
/// <param name="Seed">Seed of the images drawn and of their order.</param>
public sealed record StudyRequest(IReadOnlyList<(string Label, string Path)> Checkpoints, string Real, int Count, bool Pair = false, ulong Seed = 0);

/// <summary>
/// Draws a study: for each checkpoint, as many generated samples as real test images, the images classified
/// (real ones by their label, generated ones by the built-in Fashion-MNIST evaluator when the data is Fashion-MNIST),
/// then shuffled (whole pairs, in a pair study).
/// </summary>
public static class StudyBuilder
{
    /// <summary>The most images one study may hold: a judge's sitting, not a benchmark.</summary>
    public const int MaxImages = 1000;

    /// <summary>Builds the draft of <paramref name="request"/>; nothing is stored.</summary>
    public static StudyDraft Draw(StudyRequest request)
    {
        int k = request.Checkpoints.Count;
        if (k == 0) throw new ArgumentException("study: give at least one checkpoint");
        if (request.Count < 2 || request.Count > MaxImages || request.Count % (2 * k) != 0)
            throw new ArgumentException($"study: --count {request.Count} must be between 2 and {MaxImages} and a multiple of {2 * k} " +
                $"(half real, half generated, split evenly between {k} checkpoint{(k == 1 ? "" : "s")})");
        int perGroup = request.Count / (2 * k);
        var samplers = request.Checkpoints.Select(c => Sampler.Load(c.Path)).ToList();
        var shape = samplers[0].Model.ImageShape;
        for (int g = 1; g < k; g++)
            if (!samplers[g].Model.ImageShape.SequenceEqual(shape))
                throw new ArgumentException($"study: checkpoint '{request.Checkpoints[g].Label}' makes {Shape(samplers[g].Model.ImageShape)} images, " +
                    $"'{request.Checkpoints[0].Label}' {Shape(shape)}; compare checkpoints of one image shape");

        var data = DataSpec.Resolve(request.Real, "test");
        var (first, _) = data.Dataset.Get(0);
        if (!first.Shape.SequenceEqual(shape))
            throw new ArgumentException($"study: real data '{request.Real}' has {Shape(first.Shape)} images, the generator makes {Shape(shape)}");
        if (data.Dataset.Count < request.Count / 2)
            throw new ArgumentException($"study: real data '{request.Real}' has {data.Dataset.Count} test images, {request.Count / 2} are needed");

        var rng = new Random(unchecked((int)request.Seed ^ (int)(request.Seed >> 32)));
        var realIndices = Enumerable.Range(0, data.Dataset.Count).ToArray();
        rng.Shuffle(realIndices);
        var classifier = ClassifierFor(data, shape);

        var groups = new List<(List<StudyItem> Real, List<StudyItem> Generated)>();
        for (int g = 0; g < k; g++)
        {
            var real = new List<StudyItem>();
            for (int i = 0; i < perGroup; i++)
            {
                var (image, label) = data.Dataset.Get(realIndices[g * perGroup + i]);
                real.Add(new StudyItem(-1, false, g, data.NumClasses > 0 ? label : -1, Png(image, 0f, 1f)));
            }
            var fake = samplers[g].Sample(perGroup, request.Seed + (ulong)g);
            var classes = classifier?.Invoke(fake);
            int per = fake.Numel / perGroup;
            var generated = Enumerable.Range(0, perGroup).Select(i =>
                new StudyItem(-1, true, g, classes?[i] ?? -1, Png(Tensor.FromArray(fake.Data.Slice(i * per, per), shape), -1f, 1f))).ToList();
            groups.Add((real, generated));
        }

        List<StudyItem> order;
        if (request.Pair)
        {
            var pairs = groups.SelectMany(gr => gr.Real.Zip(gr.Generated, (r, f) => rng.Next(2) == 0 ? new[] { r, f } : [f, r])).ToArray();
            rng.Shuffle(pairs);
            order = pairs.SelectMany(p => p).ToList();
        }
        else
        {
            var all = groups.SelectMany(gr => gr.Real.Concat(gr.Generated)).ToArray();
            rng.Shuffle(all);
            order = all.ToList();
        }
        var items = order.Select((item, i) => item with { Index = i }).ToList();
        return new StudyDraft(request.Real, request.Checkpoints.Select(c => c.Label).ToList(), data.Dataset.Classes.ToList(), request.Pair, request.Seed, items);
    }

    static string Shape(IEnumerable<int> shape) => string.Join("x", shape);

    static byte[] Png(Tensor image, float lo, float hi) => PngEncoder.Encode(ByteImage.FromTensor(image, lo, hi));

    /// <summary>
    /// Classes for generated images: the built-in evaluator's argmax when the real data is Fashion-MNIST-shaped with
    /// its ten classes (the evaluator was trained on them); null otherwise, and those images get no class.
    /// </summary>
    static Func<Tensor, int[]>? ClassifierFor(ResolvedData data, int[] shape)
    {
        if (!shape.SequenceEqual([1, 28, 28]) || !data.Dataset.Classes.SequenceEqual(FashionMnist.ClassNames)) return null;
        var evaluator = EvaluatorRegistry.Load();
        return images =>
        {
            var (_, probabilities) = evaluator.Extract(images);
            if (probabilities == null) return new int[images.Size(0)].Select(_ => -1).ToArray();
            var y = new int[probabilities.GetLength(0)];
            for (int i = 0; i < y.Length; i++)
                for (int c = 1; c < probabilities.GetLength(1); c++)
                    if (probabilities[i, c] > probabilities[i, y[i]]) y[i] = c;
            return y;
        };
    }
}
