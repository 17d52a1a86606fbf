namespace GanForge;

public sealed partial class Tensor
{
    /// <summary>Softmax along <paramref name="dim"/> (as torch.softmax), shifted by the row max for stability.</summary>
    public Tensor Softmax(int dim) => Functions.Softmax.Apply(this, dim);

    /// <summary>
    /// Multi-head self-attention from packed projections, softmax(scale·q kᵀ) v per sequence and head with the heads
    /// side by side: <paramref name="qkv"/> is (N, L, 3E) (or (L, N, 3E) when not <paramref name="batchFirst"/>), each
    /// row q | k | v as torch.nn.MultiheadAttention's in_proj makes them; the result is (N, L, E) (or (L, N, E)).
    /// <paramref name="scale"/> defaults to 1/sqrt(E/heads). One fused pass each way; derivatives of any order.
    /// </summary>
    public static Tensor SelfAttention(Tensor qkv, int heads, bool batchFirst = true, float? scale = null) =>
        Functions.SelfAttention.Apply(qkv, heads, batchFirst,
            scale ?? 1f / MathF.Sqrt(qkv.Rank == 3 && heads > 0 ? Math.Max(1, qkv.Size(2) / (3 * heads)) : 1));

    /// <summary>Log of the softmax along <paramref name="dim"/>, computed as x - max - log(sum(exp(x - max))).</summary>
    public Tensor LogSoftmax(int dim) => Functions.LogSoftmax.Apply(this, dim);

    /// <summary>
    /// Gaussian error linear unit: x * Phi(x) (exact), or with <paramref name="tanhApproximation"/>
    /// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) as torch's approximate="tanh".
    /// </summary>
    public Tensor Gelu(bool tanhApproximation = false) => Functions.Gelu.Apply(this, tanhApproximation);

    /// <summary>x * sigmoid(x) (also known as swish).</summary>
    public Tensor Silu() => Functions.Silu.Apply(this);

    /// <summary>log(1 + exp(beta x)) / beta, linear where beta x exceeds <paramref name="threshold"/> (as torch's softplus).</summary>
    public Tensor Softplus(float beta = 1f, float threshold = 20f) => Functions.Softplus.Apply(this, beta, threshold);
}
