namespace GanForge.NN;

// Discriminator layers that let each sample see the rest of its minibatch, so D can tell a collapsed
// generator (samples too alike) from the data. Both are built from differentiable tensor ops only, so
// gradients of gradients (WGAN-GP, R1) flow through them.

/// <summary>
/// Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs", section 3.2):
/// appends to each sample B features that measure how close it is to the other samples of the batch.
/// </summary>
/// <remarks>
/// <para>With x: (N,A) and the learned tensor T: (A, B·C), M = x·T viewed as (N,B,C); for kernel b</para>
/// <para>c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_L1),  o(x_i)_b = Σ_j c_b(x_i, x_j),  y_i = [x_i, o(x_i)]: (N, A+B).</para>
/// <para>As in the paper (and OpenAI's improved-gan code) the sum runs over every j, the sample itself
/// included, so each o(x_i)_b holds the constant self term c_b(x_i, x_i) = 1 (it has no gradient).
/// Ports that subtract it only shift o by 1, which the next layer's bias absorbs.</para>
/// <para>T is initialised N(0,1), as the common PyTorch ports do (the paper's Theano code drew N(0, 0.05)
/// and rescaled it from data). With wide inputs N(0,1) makes the L1 distances large and every
/// c_b(x_i, x_j≠i) ≈ 0; call <c>Init.Normal(layer.T, std: 0.05f)</c> for the original scale.</para>
/// </remarks>
public sealed class MinibatchDiscrimination : Module, IPureLayer
{
    /// <summary>A: the number of input features.</summary>
    public int InFeatures { get; }

    /// <summary>B: the number of kernels, i.e. of features appended to each sample.</summary>
    public int NumKernels { get; }

    /// <summary>C: the length of each kernel's rows of M.</summary>
    public int KernelDim { get; }

    /// <summary>The registered parameter "T": (A, B·C).</summary>
    public Tensor T { get; }

    public MinibatchDiscrimination(int inFeatures, int numKernels = 100, int kernelDim = 5, Generator? generator = null)
    {
        if (inFeatures <= 0 || numKernels <= 0 || kernelDim <= 0)
            throw new ArgumentException(
                $"MinibatchDiscrimination: sizes must be positive, got in_features={inFeatures}, num_kernels={numKernels}, kernel_dim={kernelDim}");
        InFeatures = inFeatures;
        NumKernels = numKernels;
        KernelDim = kernelDim;
        T = RegisterParameter("T", Init.Normal(new Tensor(inFeatures, numKernels * kernelDim), generator: generator));
    }

    // x: (N,A), T: (A,B*C) -> M: (N,B,C) -> o: (N,B) -> y: (N,A+B)
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 2)
            throw new ArgumentException($"MinibatchDiscrimination: expected input (N,{InFeatures}), got {Shapes.Format(input.ShapeSpan)}");
        if (input.Size(1) != InFeatures)
            throw new ArgumentException(
                $"MinibatchDiscrimination: input {Shapes.Format(input.ShapeSpan)} has {input.Size(1)} features, expected {InFeatures}");
        int n = input.Size(0);
        var m = input.MatMul(ForwardParameter("T")!).Reshape(n, NumKernels, KernelDim);
        // (N,1,B,C) - (1,N,B,C): element [i,j,b,:] is M_i,b - M_j,b; its L1 norm over C is (N,N,B).
        var l1 = (m.Unsqueeze(1) - m.Unsqueeze(0)).Abs().Sum(3);
        var o = (-l1).Exp().Sum(1);                                   // Σ_j over dim 1: (N,B)
        return Tensor.Cat([input, o], 1);
    }

    protected override string ExtraRepr() => $"in_features={InFeatures}, num_kernels={NumKernels}, kernel_dim={KernelDim}";
}

/// <summary>
/// Minibatch standard deviation (Karras et al. 2018, "Progressive Growing of GANs", section 3): appends
/// one channel holding the average standard deviation of the features over a group of samples.
/// </summary>
/// <remarks>
/// <para>With x: (N,C,H,W), G = min(groupSize, N) and n = N/G groups (N must be a multiple of G), group k
/// holds samples k, k+n, k+2n, ... (sample i is in group i mod n), as in stylegan2-ada-pytorch's
/// MinibatchStdLayer, which views x as (G,n,C,H,W). For group k</para>
/// <para>s_k = mean over (c,h,w) of sqrt(var_k(c,h,w) + 1e-8),  var_k = (1/G) Σ_g (x_g,k - mean_g x_g,k)²  (biased),</para>
/// <para>and y_i = [x_i, s_(i mod n) replicated over H×W]: (N, C+1, H, W). Identical samples in a group give
/// s = sqrt(1e-8) = 1e-4. This is the single-channel form (stylegan2's num_channels = 1).</para>
/// </remarks>
public sealed class MinibatchStdDev : Module, IPureLayer
{
    /// <summary>The largest group; a smaller batch forms one group of all its samples.</summary>
    public int GroupSize { get; }

    public MinibatchStdDev(int groupSize = 4)
    {
        if (groupSize <= 0) throw new ArgumentException($"MinibatchStdDev: group_size must be positive, got {groupSize}");
        GroupSize = groupSize;
    }

    // x: (N,C,H,W) -> view (G,n,C,H,W) -> std over G: (n,C,H,W) -> mean: (n) -> channel (N,1,H,W) -> y: (N,C+1,H,W)
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 4)
            throw new ArgumentException($"MinibatchStdDev: expected input (N,C,H,W), got {Shapes.Format(input.ShapeSpan)}");
        int batch = input.Size(0), c = input.Size(1), h = input.Size(2), w = input.Size(3);
        if (batch == 0)
            throw new ArgumentException($"MinibatchStdDev: input {Shapes.Format(input.ShapeSpan)} has no samples");
        int g = Math.Min(GroupSize, batch);
        if (batch % g != 0)
            throw new ArgumentException(
                $"MinibatchStdDev: batch of {batch} in input {Shapes.Format(input.ShapeSpan)} cannot be split into groups of {g} (group_size={GroupSize})");
        int n = batch / g;
        var variance = input.Reshape(g, n, c, h, w).Var(0, unbiased: false);
        var shifted = variance + 1e-8f;
        Release(variance, shifted);
        var std = shifted.Sqrt();
        Release(shifted, std);
        var s = std.Mean([1, 2, 3]);                                  // one value per group: (n)
        Release(std, s);
        // Row-major (G,n) flattens to sample i = gi*n + k, so group k lands on samples k, k+n, ...
        var channel = s.Reshape(1, n, 1, 1, 1).Expand(g, n, 1, h, w).Reshape(batch, 1, h, w);
        var output = Tensor.Cat([input, channel], 1);
        Release(channel, output);
        return output;
    }

    protected override string ExtraRepr() => $"group_size={GroupSize}";
}
