using GanForge.Distributed;

namespace GanForge.Functions;

/// <summary>
/// Training-mode batch normalisation over the rows of every rank (torch.nn.SyncBatchNorm): x (N,C,*) on each rank,
/// normalised per channel by the mean and biased variance of all ranks' rows together, then scaled and shifted.
/// </summary>
/// <remarks>
/// The arithmetic is <see cref="BatchNormFunction"/>'s, with each per-channel sum added over the ranks (in double)
/// before use: forward, Σx then Σ(x-μ)² (two allreduces of C values); backward, Σg and Σg·(x-μ) for the input
/// gradient (one allreduce of 2C). The weight and bias gradients are this rank's share (Σ over its rows): averaging
/// them over the ranks, as data-parallel training does with every gradient, completes them. Every rank must run
/// forward and backward alike. With a graph being built, the backward is written with tensor ops and
/// <see cref="AllReduceFunction"/>, so double backward works.
/// </remarks>
internal sealed class SyncBatchNormFunction : Function
{
    readonly float _eps;
    readonly bool _hasWeight, _hasBias;
    readonly IProcessGroup _group;
    readonly double _count;
    float[]? _mean, _invstd;

    SyncBatchNormFunction(float eps, bool hasWeight, bool hasBias, IProcessGroup group, double count)
    { _eps = eps; _hasWeight = hasWeight; _hasBias = hasBias; _group = group; _count = count; }

    /// <summary>Normalises <paramref name="x"/>; also returns the global mean and biased variance per channel (C) and the global count.</summary>
    public static (Tensor Y, float[] Mean, float[] Var, double Count) Apply(Tensor x, Tensor? weight, Tensor? bias, float eps, IProcessGroup group)
    {
        if (x.Rank < 2)
            throw new ArgumentException($"SyncBatchNorm: expected input (N,C,*), got {Shapes.Format(x.ShapeSpan)}");
        int n = x.Size(0), c = x.Size(1), inner = x.Numel / Math.Max(n * c, 1);
        foreach (var (p, name) in new[] { (weight, "weight"), (bias, "bias") })
            if (p != null && (p.Rank != 1 || p.Size(0) != c))
                throw new ArgumentException($"SyncBatchNorm: {name} {Shapes.Format(p.ShapeSpan)} does not match {c} channels of input {Shapes.Format(x.ShapeSpan)}");

        // Σx per channel and the count travel together: ranks may hold different numbers of rows.
        var sums = new double[c + 1];
        Kernels.BatchNorm.ChannelSums(x.Storage, n, c, inner, sums);
        sums[c] = (double)n * inner;
        group.AllReduce(sums.AsSpan());
        double count = sums[c];
        if (count <= 1)
            throw new ArgumentException($"SyncBatchNorm: expected more than 1 value per channel over {group.Size} ranks, got input {Shapes.Format(x.ShapeSpan)} on rank {group.Rank}");
        var mean = new float[c];
        for (int ch = 0; ch < c; ch++) mean[ch] = (float)(sums[ch] / count);
        var squares = new double[c];
        Kernels.BatchNorm.ChannelSquaredDeviations(x.Storage, n, c, inner, mean, squares);
        group.AllReduce(squares.AsSpan());

        var variance = new float[c]; var invstd = new float[c]; var scale = new float[c]; var shift = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double v = squares[ch] / count;
            variance[ch] = (float)v;
            invstd[ch] = (float)(1.0 / Math.Sqrt(v + eps));
            scale[ch] = invstd[ch] * (weight?.Data[ch] ?? 1f);
            shift[ch] = (bias?.Data[ch] ?? 0f) - mean[ch] * scale[ch];
        }
        var y = Tensor.Uninitialized(x.ShapeSpan);
        Kernels.BatchNorm.Affine(x.Storage, y.Storage, n, c, inner, scale, shift);

        var inputs = new List<Tensor> { x };
        if (weight != null) inputs.Add(weight);
        if (bias != null) inputs.Add(bias);
        var fn = new SyncBatchNormFunction(eps, weight != null, bias != null, group, count);
        if (WillRecord([.. inputs])) (fn._mean, fn._invstd) = (mean, invstd);
        Record(fn, y, [.. inputs]);
        return (y, mean, variance, count);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        int bi = _hasWeight ? 2 : 1;
        bool wantDx = NeedsGrad(0), wantDw = _hasWeight && NeedsGrad(1), wantDb = _hasBias && NeedsGrad(bi);
        var (dx, dw, db) = GradMode.IsEnabled ? GraphBackward(x, g, wantDx, wantDw, wantDb) : RawBackward(x, g, wantDx, wantDw, wantDb);
        return (_hasWeight, _hasBias) switch
        {
            (true, true) => [dx, dw, db],
            (true, false) => [dx, dw],
            (false, true) => [dx, db],
            _ => [dx],
        };
    }

    // One pass for this rank's sums, one allreduce for the global ones (only when the input needs a gradient).
    (Tensor?, Tensor?, Tensor?) RawBackward(Tensor x, Tensor g, bool wantDx, bool wantDw, bool wantDb)
    {
        int n = x.Size(0), c = x.Size(1), inner = x.Numel / Math.Max(n * c, 1);
        var sg = new double[c]; var sgx = new double[c];
        Kernels.BatchNorm.ChannelGradientSums(x.Storage, g.Storage, n, c, inner, _mean!, sg, sgx);
        Tensor? dw = null, db = null, dx = null;
        if (wantDw)
        {
            dw = new Tensor(c);
            for (int ch = 0; ch < c; ch++) dw.Data[ch] = (float)(sgx[ch] * _invstd![ch]);
        }
        if (wantDb)
        {
            db = new Tensor(c);
            for (int ch = 0; ch < c; ch++) db.Data[ch] = (float)sg[ch];
        }
        if (wantDx)
        {
            var global = new double[2 * c];
            sg.CopyTo(global, 0);
            sgx.CopyTo(global, c);
            _group.AllReduce(global.AsSpan());
            dx = Tensor.Uninitialized(x.ShapeSpan);
            Kernels.BatchNorm.InputGradient(x.Storage, g.Storage, n, c, inner, _mean!, _invstd!, _hasWeight ? Inputs[1].Storage : null,
                global[..c], global[c..], _count, dx.Storage);
        }
        return (dx, dw, db);
    }

    // dx = invstd·(gw - Σgw/n - x̂·Σ(gw·x̂)/n) with the sums over every rank, the statistics recomputed differentiably.
    (Tensor?, Tensor?, Tensor?) GraphBackward(Tensor x, Tensor g, bool wantDx, bool wantDw, bool wantDb)
    {
        int c = x.Size(1);
        int[] dims = BatchNormFunction.ReducedDims(x);
        var channelShape = BatchNormFunction.ChannelShape(x);
        float perCount = (float)(1 / _count);
        var mean = (NN.F.AllReduce(x.Sum(dims), _group) * perCount).Reshape(channelShape);
        var centred = x - mean;
        var invstd = ((NN.F.AllReduce(centred.Square().Sum(dims), _group) * perCount) + _eps).Pow(-0.5f).Reshape(channelShape);
        var xhat = centred * invstd;
        var gw = _hasWeight ? g * Inputs[1].Reshape(channelShape) : g;
        Tensor? dx = null, dw = null, db = null;
        if (wantDx)
        {
            var sums = NN.F.AllReduce(Tensor.Cat([gw.Sum(dims), (gw * xhat).Sum(dims)], 0), _group) * perCount;
            dx = invstd * (gw - sums.Narrow(0, 0, c).Reshape(channelShape) - xhat * sums.Narrow(0, c, c).Reshape(channelShape));
        }
        if (wantDw) dw = (g * xhat).Sum(dims);
        if (wantDb) db = g.Sum(dims);
        return (dx, dw, db);
    }

    protected internal override void ReleaseSaved() { _mean = null; _invstd = null; }
}
