namespace GanForge.NN;

public static partial class F
{
    /// <summary>Applies a PyTorch reduction ("mean", "sum" or "none") to elementwise losses.</summary>
    static Tensor Reduce(Tensor loss, string reduction, string op) => reduction switch
    {
        "mean" => loss.Mean(),
        "sum" => loss.Sum(),
        "none" => loss,
        _ => throw new ArgumentException($"{op}: reduction must be \"mean\", \"sum\" or \"none\", got \"{reduction}\""),
    };

    static void CheckSameShape(Tensor input, Tensor target, string op)
    {
        if (!input.ShapeSpan.SequenceEqual(target.ShapeSpan))
            throw new ArgumentException($"{op}: input {Shapes.Format(input.ShapeSpan)} and target {Shapes.Format(target.ShapeSpan)} differ in shape");
    }

    /// <summary>(x - y)^2.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, string reduction = "mean")
    {
        CheckSameShape(input, target, "MseLoss");
        var difference = input - target;
        return ReduceOfDifference(difference, difference.Square(), reduction, "MseLoss");
    }

    /// <summary>|x - y|.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, string reduction = "mean")
    {
        CheckSameShape(input, target, "L1Loss");
        var difference = input - target;
        return ReduceOfDifference(difference, difference.Abs(), reduction, "L1Loss");
    }

    /// <summary>
    /// <see cref="Reduce"/> of an elementwise loss made from <paramref name="difference"/> alone: the difference, and the
    /// elementwise loss where the reduction made a new tensor, go back to the pool after their last reader.
    /// </summary>
    static Tensor ReduceOfDifference(Tensor difference, Tensor loss, string reduction, string op)
    {
        var reduced = Reduce(loss, reduction, op);
        Intermediates.Release(difference);
        if (!reduced.SharesBufferWith(loss)) Intermediates.Release(loss);
        return reduced;
    }

    /// <summary>0.5 d^2 / beta where |d| &lt; beta, else |d| - 0.5 beta (d = x - y); L1 when beta is 0.</summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, string reduction = "mean", float beta = 1f)
    {
        CheckSameShape(input, target, "SmoothL1Loss");
        if (beta < 0) throw new ArgumentException($"SmoothL1Loss: beta must be non-negative, got {beta}");
        var d = input - target;
        if (beta == 0f) return Reduce(d.Abs(), reduction, "SmoothL1Loss");
        var quadratic = Below(d, beta);
        var loss = quadratic * d.Square() * (0.5f / beta) + (1f - quadratic) * (d.Abs() - 0.5f * beta);
        return Reduce(loss, reduction, "SmoothL1Loss");
    }

    /// <summary>0.5 d^2 where |d| &lt;= delta, else delta (|d| - 0.5 delta) (d = x - y).</summary>
    public static Tensor HuberLoss(Tensor input, Tensor target, string reduction = "mean", float delta = 1f)
    {
        CheckSameShape(input, target, "HuberLoss");
        if (delta <= 0) throw new ArgumentException($"HuberLoss: delta must be positive, got {delta}");
        var d = input - target;
        var quadratic = Below(d, delta, inclusive: true);
        var loss = quadratic * d.Square() * 0.5f + (1f - quadratic) * (d.Abs() - 0.5f * delta) * delta;
        return Reduce(loss, reduction, "HuberLoss");
    }

    // A constant 0/1 mask of |d| < bound: the branch choice has no gradient.
    static Tensor Below(Tensor d, float bound, bool inclusive = false)
    {
        var m = new Tensor(d.Shape);
        var ds = d.Data; var ms = m.Data;
        for (int i = 0; i < ds.Length; i++)
        {
            float a = MathF.Abs(ds[i]);
            ms[i] = a < bound || (inclusive && a == bound) ? 1f : 0f;
        }
        return m;
    }

    /// <summary>
    /// -w (y log x + (1 - y) log(1 - x)) for probabilities x, with each log clamped at -100 as PyTorch
    /// does, so x = 0 or 1 gives a finite loss.
    /// </summary>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, string reduction = "mean")
    {
        CheckSameShape(input, target, "BinaryCrossEntropy");
        foreach (float v in input.Data)
            if (!(v >= 0f && v <= 1f))
                throw new ArgumentException($"BinaryCrossEntropy: input values must lie in [0, 1], found {v}");
        var loss = Functions.BinaryCrossEntropy.Apply(input, target);
        if (weight != null) loss = loss * weight;
        return Reduce(loss, reduction, "BinaryCrossEntropy");
    }

    /// <summary>
    /// Binary cross-entropy on logits, computed stably:
    /// (1 - y) x + (1 + (p - 1) y) softplus(-x), times <paramref name="weight"/>, with
    /// <paramref name="posWeight"/> p weighting the positive class (broadcast along the last dim).
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, string reduction = "mean", Tensor? posWeight = null)
    {
        CheckSameShape(input, target, "BinaryCrossEntropyWithLogits");
        // softplus(-x) = log(1 + exp(-x)); its linear branch takes over only where exp(-x) is below float resolution.
        var softplusNeg = (-input).Softplus();
        Tensor loss = posWeight == null
            ? (1f - target) * input + softplusNeg
            : (1f - target) * input + ((posWeight - 1f) * target + 1f) * softplusNeg;
        if (weight != null) loss = loss * weight;
        return Reduce(loss, reduction, "BinaryCrossEntropyWithLogits");
    }

    /// <summary>
    /// Negative log-likelihood of log-probabilities x (N,C,*) or (C) at integer class indices y (N,*) or ()
    /// stored as floats: -w[y] x[y]. Targets equal to <paramref name="ignoreIndex"/> contribute nothing; "mean"
    /// divides by the total weight of the counted targets, as PyTorch.
    /// </summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, int ignoreIndex = -100, string reduction = "mean")
    {
        var (picked, totalWeight) = PickClasses(input, target, weight, ignoreIndex, "NllLoss");
        var loss = -(input * picked).Sum(ClassDim(input));
        return ReduceWeighted(loss, totalWeight, reduction, "NllLoss");
    }

    /// <summary>
    /// Cross-entropy of logits x (N,C,*) or (C) against class indices (N,*) stored as floats, or against
    /// class probabilities of the same shape as x; with label smoothing eps the target mixes in the uniform
    /// distribution as (1 - eps) target + eps / C (as torch's cross_entropy).
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, int ignoreIndex = -100,
        string reduction = "mean", float labelSmoothing = 0f)
    {
        if (!(labelSmoothing >= 0f && labelSmoothing <= 1f))
            throw new ArgumentException($"CrossEntropy: label_smoothing must be in [0, 1], got {labelSmoothing}");
        int classDim = ClassDim(input);
        int classes = input.Size(classDim);
        var logp = input.LogSoftmax(classDim);
        var weightShape = WeightShape(input);
        if (weight != null && weight.Numel != classes)
            throw new ArgumentException($"CrossEntropy: weight {Shapes.Format(weight.ShapeSpan)} does not match {classes} classes of input {Shapes.Format(input.ShapeSpan)}");

        if (input.ShapeSpan.SequenceEqual(target.ShapeSpan))
        {
            var probs = labelSmoothing > 0f ? target * (1f - labelSmoothing) + labelSmoothing / classes : target;
            var terms = logp * probs;
            if (weight != null) terms = terms * weight.Reshape(weightShape);
            var loss = -terms.Sum(classDim);
            return Reduce(loss, reduction, "CrossEntropy");
        }

        var nll = NllLoss(logp, target, weight, ignoreIndex, reduction);
        if (labelSmoothing == 0f) return nll;
        // The uniform part: -sum_c w_c log p_c per position, zero where the target is ignored.
        var (_, totalWeight) = PickClasses(input, target, weight, ignoreIndex, "CrossEntropy");
        var counted = CountedMask(target, ignoreIndex);
        var all = weight == null ? logp : logp * weight.Reshape(weightShape);
        var smooth = -all.Sum(classDim) * counted;
        Tensor reduced = reduction switch
        {
            "mean" => weight == null ? smooth.Sum() / Math.Max(counted.Data.ToArray().Sum(), 1f) : smooth.Sum() / totalWeight,
            "sum" => smooth.Sum(),
            _ => smooth,
        };
        return nll * (1f - labelSmoothing) + reduced * (labelSmoothing / classes);
    }

    static int ClassDim(Tensor input) => input.Rank == 1 ? 0 : 1;

    static int[] WeightShape(Tensor input)
    {
        var s = new int[input.Rank];
        Array.Fill(s, 1);
        s[ClassDim(input)] = input.Size(ClassDim(input));
        return s;
    }

    static Tensor CountedMask(Tensor target, int ignoreIndex)
    {
        var m = new Tensor(target.Shape);
        var t = target.Data; var ms = m.Data;
        for (int i = 0; i < t.Length; i++) ms[i] = (int)t[i] == ignoreIndex ? 0f : 1f;
        return m;
    }

    /// <summary>
    /// A constant of the input's shape holding w[y] at the target class of each position (0 where ignored),
    /// and the sum of those weights.
    /// </summary>
    static (Tensor Picked, float TotalWeight) PickClasses(Tensor input, Tensor target, Tensor? weight, int ignoreIndex, string op)
    {
        int classDim = ClassDim(input);
        var expected = input.Shape.Where((_, i) => i != classDim).ToArray();
        if (!target.ShapeSpan.SequenceEqual(expected))
            throw new ArgumentException($"{op}: target {Shapes.Format(target.ShapeSpan)} does not match input {Shapes.Format(input.ShapeSpan)} (expected {Shapes.Format(expected)})");
        int classes = input.Size(classDim);
        int outer = input.Rank == 1 ? 1 : input.Size(0), inner = input.Numel / Math.Max(outer * classes, 1);
        var picked = new Tensor(input.Shape);
        var p = picked.Data; var t = target.Data;
        double total = 0;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                float tv = t[o * inner + i];
                int k = (int)tv;
                if (k == ignoreIndex) continue;
                if (k != tv || k < 0 || k >= classes)
                    throw new ArgumentException($"{op}: target {tv} at position {o * inner + i} is not a class index in [0, {classes})");
                float w = weight?.Data[k] ?? 1f;
                p[(o * classes + k) * inner + i] = w;
                total += w;
            }
        return (picked, (float)total);
    }

    static Tensor ReduceWeighted(Tensor loss, float totalWeight, string reduction, string op) => reduction switch
    {
        "mean" => loss.Sum() / totalWeight,
        _ => Reduce(loss, reduction, op),
    };
}
