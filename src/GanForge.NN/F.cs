namespace GanForge.NN;

/// <summary>
/// Stateless layer functions, as torch.nn.functional: the modules in Layers are thin holders of
/// parameters around these. Convolution, pooling and upsampling live in FSpatial.cs.
/// </summary>
public static partial class F
{
    /// <summary>y = x W^T + b for x (*,in), W (out,in), b (out): one GEMM with the bias folded in (<see cref="Functions.LinearFunction"/>).</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2 || input.Rank == 0 || input.Size(-1) != weight.Size(1))
            throw new ArgumentException($"Linear: input {Shapes.Format(input.ShapeSpan)} does not match weight {Shapes.Format(weight.ShapeSpan)} (expected (*,{(weight.Rank == 2 ? weight.Size(1) : -1)}))");
        return Functions.LinearFunction.Apply(input, weight, bias);
    }

    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor input) => input.Relu();

    /// <summary>x for x &gt; 0, else negativeSlope * x.</summary>
    public static Tensor LeakyRelu(Tensor input, float negativeSlope = 0.01f) => input.LeakyRelu(negativeSlope);
    /// <summary>PReLU: x for x &gt; 0, else a·x, <paramref name="weight"/> one slope (1) or one per channel of dimension 1 (C).</summary>
    public static Tensor PRelu(Tensor input, Tensor weight) => input.PRelu(weight);

    public static Tensor Tanh(Tensor input) => input.Tanh();

    public static Tensor Sigmoid(Tensor input) => input.Sigmoid();

    /// <summary>GELU; <paramref name="approximate"/> is "none" (exact erf form) or "tanh".</summary>
    public static Tensor Gelu(Tensor input, string approximate = "none") => approximate switch
    {
        "none" => input.Gelu(false),
        "tanh" => input.Gelu(true),
        _ => throw new ArgumentException($"Gelu: approximate must be \"none\" or \"tanh\", got \"{approximate}\""),
    };

    public static Tensor Silu(Tensor input) => input.Silu();

    public static Tensor Softplus(Tensor input, float beta = 1f, float threshold = 20f) => input.Softplus(beta, threshold);

    public static Tensor Softmax(Tensor input, int dim) => input.Softmax(dim);

    public static Tensor LogSoftmax(Tensor input, int dim) => input.LogSoftmax(dim);

    /// <summary>
    /// Zeroes each element with probability <paramref name="p"/> and scales the rest by 1/(1-p) in
    /// training; the identity otherwise.
    /// </summary>
    public static Tensor Dropout(Tensor input, float p = 0.5f, bool training = true, Generator? generator = null)
    {
        CheckProbability(p, "Dropout");
        if (!training || p == 0f) return input;
        return Masked(input, BernoulliMask(input.Shape, p, generator));
    }

    /// <summary>Zeroes whole channels of x (N,C,*) with probability <paramref name="p"/> (as torch's dropout2d).</summary>
    public static Tensor Dropout2d(Tensor input, float p = 0.5f, bool training = true, Generator? generator = null)
    {
        CheckProbability(p, "Dropout2d");
        if (input.Rank < 2)
            throw new ArgumentException($"Dropout2d: expected input (N,C,H,W) or (C,H,W), got {Shapes.Format(input.ShapeSpan)}");
        if (!training || p == 0f) return input;
        var maskShape = new int[input.Rank];
        Array.Fill(maskShape, 1);
        // An unbatched (C,H,W) input drops along dim 0, a batched one along (N,C).
        int keep = input.Rank == 3 ? 1 : 2;
        for (int d = 0; d < keep; d++) maskShape[d] = input.Size(d);
        return Masked(input, BernoulliMask(maskShape, p, generator));
    }

    // x·mask, the mask read by that product alone: its buffer goes back once the product's node has run its backward
    // (at once without a graph).
    static Tensor Masked(Tensor input, Tensor mask)
    {
        var y = input * mask;
        Intermediates.Release(mask, y);
        return y;
    }

    static void CheckProbability(float p, string op)
    {
        if (!(p >= 0f && p <= 1f)) throw new ArgumentException($"{op}: probability must be in [0, 1], got {p}");
    }

    static Tensor BernoulliMask(int[] shape, float p, Generator? generator)
    {
        var g = generator ?? Generator.Default;
        var mask = new Tensor(shape);
        float scale = p >= 1f ? 0f : 1f / (1f - p);
        var m = mask.Data;
        for (int i = 0; i < m.Length; i++) m[i] = g.NextDouble() >= p ? scale : 0f;
        return mask;
    }

    /// <summary>Rows of <paramref name="weight"/> (V,D) picked by integer-valued <paramref name="indices"/> (*) -> (*,D).</summary>
    public static Tensor Embedding(Tensor indices, Tensor weight) => Functions.Embedding.Apply(weight, indices);
}
