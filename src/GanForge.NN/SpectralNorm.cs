namespace GanForge.NN;

/// <summary>
/// Spectral normalisation of a module's weight (as torch.nn.utils.spectral_norm, Miyato et al. 2018):
/// the parameter becomes weight_orig, with buffers weight_u and weight_v; Forward sees weight_orig / sigma,
/// where sigma = u^T W v estimated by power iteration (run only in training, without gradient).
/// </summary>
public static class SpectralNorm
{
    /// <summary>
    /// Reparameterises <paramref name="name"/> of <paramref name="module"/> and returns the module. <paramref name="dim"/>
    /// is the output dim of the weight: 0 by default, 1 for ConvTranspose layers.
    /// </summary>
    public static T Apply<T>(T module, string name = "weight", int nPowerIterations = 1, float eps = 1e-12f, int? dim = null,
        Generator? generator = null) where T : Module
    {
        if (nPowerIterations < 0)
            throw new ArgumentException($"SpectralNorm: n_power_iterations must be non-negative, got {nPowerIterations}");
        var weight = module.OwnParameter(name)
            ?? throw new ArgumentException($"SpectralNorm: {module.TypeName} has no parameter named '{name}'");
        if (module.OwnParameter(name + "_orig") != null)
            throw new InvalidOperationException($"SpectralNorm: '{name}' of {module.TypeName} is already spectrally normalised");
        int d = dim ?? (module.TypeName.StartsWith("ConvTranspose", StringComparison.Ordinal) ? 1 : 0);
        d = Shapes.NormalizeDim(d, weight.Rank, "SpectralNorm");

        int h = weight.Size(d), w = weight.Numel / h;
        var g = generator ?? Generator.Default;
        var u = Init.Normal(new Tensor(h), generator: g);
        var v = Init.Normal(new Tensor(w), generator: g);
        Normalize(u.Data, eps);
        Normalize(v.Data, eps);

        module.RemoveParameter(name);
        var orig = module.RegisterParameter(name + "_orig", weight);
        module.RegisterBuffer(name + "_u", u);
        module.RegisterBuffer(name + "_v", v);
        module.SetReparameterization(name, () => Compute(module, orig, u, v, d, nPowerIterations, eps));
        return module;
    }

    /// <summary>The weight as a (size(dim), rest) matrix, dim moved first.</summary>
    static Tensor Matrix(Tensor weight, int dim)
    {
        if (dim != 0)
        {
            var perm = new List<int> { dim };
            for (int i = 0; i < weight.Rank; i++) if (i != dim) perm.Add(i);
            weight = weight.Permute([.. perm]);
        }
        return weight.Reshape(weight.Size(0), -1);
    }

    // W_sn = W / sigma, sigma = u^T W v; u and v are constants of the graph (PyTorch clones them).
    static Tensor Compute(Module module, Tensor orig, Tensor u, Tensor v, int dim, int iterations, float eps)
    {
        var matrix = Matrix(orig, dim);
        if (module.Training && iterations > 0)
        {
            int h = matrix.Size(0), w = matrix.Size(1);
            var m = matrix.Data; var us = u.Data; var vs = v.Data;
            for (int it = 0; it < iterations; it++)
            {
                // v = normalize(W^T u), u = normalize(W v)
                vs.Clear();
                for (int i = 0; i < h; i++)
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(m.Slice(i * w, w), us[i], vs, vs);
                Normalize(vs, eps);
                for (int i = 0; i < h; i++) us[i] = System.Numerics.Tensors.TensorPrimitives.Dot(m.Slice(i * w, w), vs);
                Normalize(us, eps);
            }
        }
        // The copies are the graph's constants, each read by one op alone: back to the pool once it is done with them (a
        // Linear head's v, 6,272 floats in sngan28's D, was fresh memory every forward).
        var (uc, vc) = (u.Clone(), v.Clone());
        var wv = matrix.MatMul(vc);
        Intermediates.Release(vc, wv);
        var product = uc * wv;
        Intermediates.Release(uc, product);
        var sigma = product.Sum();
        return orig / sigma;
    }

    static void Normalize(Span<float> x, float eps)
    {
        double sq = 0;
        foreach (float a in x) sq += (double)a * a;
        float inv = (float)(1.0 / Math.Max(Math.Sqrt(sq), eps));
        System.Numerics.Tensors.TensorPrimitives.Multiply(x, inv, x);
    }
}
