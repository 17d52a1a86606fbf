namespace GanForge.NN;

/// <summary>
/// In-place parameter initialisers, as torch.nn.init. Each writes the tensor's data outside autograd
/// and returns it; each takes an optional <see cref="Generator"/> (the default generator otherwise).
/// </summary>
public static class Init
{
    [ThreadStatic] static int t_skipping;

    /// <summary>
    /// Within the returned scope (on this thread) the random initialisers leave their tensors as they are (zeros, or a
    /// layer's default) and draw nothing: for networks built only to have every weight loaded from a checkpoint next
    /// (<c>Checkpoint.CreateModelToLoad</c>: a CycleGAN's four networks drew 21M normals for `translate` to overwrite).
    /// Constant, Zeros and Ones still fill. A network built so and not loaded is not initialised: do not use it.
    /// </summary>
    public static IDisposable SkippingRandom()
    {
        t_skipping++;
        return new SkipScope();
    }

    /// <summary>True within <see cref="SkippingRandom"/> on this thread (layers that draw their own defaults ask).</summary>
    public static bool SkipsRandom => t_skipping > 0;

    sealed class SkipScope : IDisposable
    {
        bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            t_skipping--;
        }
    }

    /// <summary>Fills with N(mean, std^2).</summary>
    public static Tensor Normal(Tensor tensor, float mean = 0f, float std = 1f, Generator? generator = null)
    {
        if (SkipsRandom) return tensor;
        var g = generator ?? Generator.Default;
        var d = tensor.Data;
        for (int i = 0; i < d.Length; i++) d[i] = (float)(mean + std * g.NextNormal());
        return tensor;
    }

    /// <summary>Fills with U(a, b).</summary>
    public static Tensor Uniform(Tensor tensor, float a = 0f, float b = 1f, Generator? generator = null)
    {
        if (SkipsRandom) return tensor;
        var g = generator ?? Generator.Default;
        var d = tensor.Data;
        for (int i = 0; i < d.Length; i++) d[i] = (float)(a + (b - (double)a) * g.NextDouble());
        return tensor;
    }

    public static Tensor Constant(Tensor tensor, float value) => tensor.Fill(value);

    public static Tensor Zeros(Tensor tensor) => tensor.Fill(0f);

    public static Tensor Ones(Tensor tensor) => tensor.Fill(1f);

    /// <summary>
    /// The recommended gain for a nonlinearity (as torch.nn.init.calculate_gain): 1 for linear, conv and
    /// sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + a^2)) for leaky_relu (a defaults to 0.01), 3/4 for selu.
    /// </summary>
    public static float CalculateGain(string nonlinearity, float? param = null) => nonlinearity switch
    {
        "linear" or "conv1d" or "conv2d" or "conv3d" or "conv_transpose1d" or "conv_transpose2d" or "conv_transpose3d" or "sigmoid" => 1f,
        "tanh" => 5f / 3f,
        "relu" => MathF.Sqrt(2f),
        "leaky_relu" => MathF.Sqrt(2f / (1f + (param ?? 0.01f) * (param ?? 0.01f))),
        "selu" => 0.75f,
        _ => throw new ArgumentException($"CalculateGain: unsupported nonlinearity \"{nonlinearity}\""),
    };

    /// <summary>
    /// (fan_in, fan_out) as PyTorch computes them: size(1) and size(0) times the receptive field
    /// (the product of the dims after the first two).
    /// </summary>
    public static (int FanIn, int FanOut) CalculateFanInAndFanOut(Tensor tensor)
    {
        if (tensor.Rank < 2)
            throw new ArgumentException($"Init: fan in and fan out cannot be computed for a tensor with fewer than 2 dims, got {Shapes.Format(tensor.ShapeSpan)}");
        int receptive = 1;
        for (int d = 2; d < tensor.Rank; d++) receptive *= tensor.Size(d);
        return (tensor.Size(1) * receptive, tensor.Size(0) * receptive);
    }

    /// <summary>U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot &amp; Bengio 2010).</summary>
    public static Tensor XavierUniform(Tensor tensor, float gain = 1f, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        float a = gain * MathF.Sqrt(6f / (fanIn + fanOut));
        return Uniform(tensor, -a, a, generator);
    }

    /// <summary>N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal(Tensor tensor, float gain = 1f, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        return Normal(tensor, 0f, gain * MathF.Sqrt(2f / (fanIn + fanOut)), generator);
    }

    static float KaimingStd(Tensor tensor, float a, string mode, string nonlinearity)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        int fan = mode switch
        {
            "fan_in" => fanIn,
            "fan_out" => fanOut,
            _ => throw new ArgumentException($"Kaiming: mode must be \"fan_in\" or \"fan_out\", got \"{mode}\""),
        };
        return CalculateGain(nonlinearity, a) / MathF.Sqrt(fan);
    }

    /// <summary>U(-b, b) with b = sqrt(3) * gain / sqrt(fan) (He et al. 2015).</summary>
    public static Tensor KaimingUniform(Tensor tensor, float a = 0f, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null)
    {
        float bound = MathF.Sqrt(3f) * KaimingStd(tensor, a, mode, nonlinearity);
        return Uniform(tensor, -bound, bound, generator);
    }

    /// <summary>N(0, std^2) with std = gain / sqrt(fan).</summary>
    public static Tensor KaimingNormal(Tensor tensor, float a = 0f, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null)
        => Normal(tensor, 0f, KaimingStd(tensor, a, mode, nonlinearity), generator);

    /// <summary>
    /// A (semi-)orthogonal matrix times <paramref name="gain"/> (Saxe et al. 2013): the tensor is viewed as
    /// (size(0), rest), a Gaussian matrix is QR-factorised in double, and Q's columns are sign-corrected by diag(R).
    /// </summary>
    public static Tensor Orthogonal(Tensor tensor, float gain = 1f, Generator? generator = null)
    {
        if (tensor.Rank < 2)
            throw new ArgumentException($"Orthogonal: only tensors with 2 or more dims are supported, got {Shapes.Format(tensor.ShapeSpan)}");
        if (SkipsRandom) return tensor;
        int rows = tensor.Size(0), cols = tensor.Numel / rows;
        var g = generator ?? Generator.Default;
        // Factor the tall orientation (m >= n) so Q has orthonormal columns.
        bool transposed = rows < cols;
        int m = transposed ? cols : rows, n = transposed ? rows : cols;
        var a = new double[m, n];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double v = g.NextNormal();
                if (transposed) a[j, i] = v; else a[i, j] = v;
            }
        // Modified Gram-Schmidt, two passes per column for orthogonality to working precision. Its R has a
        // positive diagonal, which is exactly the sign correction torch applies to Householder QR.
        for (int j = 0; j < n; j++)
        {
            for (int pass = 0; pass < 2; pass++)
                for (int k = 0; k < j; k++)
                {
                    double dot = 0;
                    for (int i = 0; i < m; i++) dot += a[i, k] * a[i, j];
                    for (int i = 0; i < m; i++) a[i, j] -= dot * a[i, k];
                }
            double norm = 0;
            for (int i = 0; i < m; i++) norm += a[i, j] * a[i, j];
            norm = Math.Sqrt(norm);
            for (int i = 0; i < m; i++) a[i, j] /= norm;
        }
        var d = tensor.Data;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                d[i * cols + j] = (float)(gain * (transposed ? a[j, i] : a[i, j]));
        return tensor;
    }
}
