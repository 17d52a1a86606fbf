using GanForge.Kernels;

namespace GanForge.Functions;

/// <summary>
/// y = x Wᵀ + b as one Function: x (*,in) is seen as a (rows,in) matrix, W (out,in), b (out).
/// </summary>
/// <remarks>
/// The forward hands b to the GEMM, which adds it as it stores y (or writes it into y first where the product runs
/// elsewhere), so the bias costs no broadcast op, no extra graph node and no pass of its own. Without a graph the
/// backward is three kernels: dx = g W, dW = gᵀ x, db = Σ_rows g (one pass over g and x for a layer of at most sixteen
/// inputs and forty-eight outputs over many rows, <see cref="ThinLinear"/>); where the backward fuses optimizer steps
/// (<see cref="FusedStep"/>), W takes its step inside the product that would make dW. With a graph (gradients of
/// gradients) it is written with differentiable ops instead, dx among them as <see cref="LinearInputGradient"/>: the
/// product the backward without a graph makes (outside ThinLinear's layers), in the same bits.
/// </remarks>
internal sealed class LinearFunction : Function
{
    readonly bool _hasBias;
    readonly int _rows, _in, _out;

    LinearFunction(bool hasBias, int rows, int inF, int outF) => (_hasBias, _rows, _in, _out) = (hasBias, rows, inF, outF);

    protected internal override string ProfileName => $"Linear {_rows}x{_in}->{_out}";

    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias)
    {
        int inF = weight.Size(1), outF = weight.Size(0);
        if (bias != null && (bias.Rank != 1 || bias.Size(0) != outF))
            throw new ArgumentException($"Linear: bias {Shapes.Format(bias.ShapeSpan)} does not match weight {Shapes.Format(weight.ShapeSpan)}");
        int rows = x.Numel / inF;
        var shape = x.Shape;
        shape[^1] = outF;
        var y = Tensor.Uninitialized(shape);
        if (ThinLinear.SuitsForward(rows, inF, outF)) ThinLinear.Forward(x.Storage, weight.Storage, bias?.Storage, y.Storage, rows, inF, outF);
        else Gemm.Sgemm(false, true, rows, outF, inF, 1f, x.Data, inF, weight.Data, inF, 0f, y.Data, outF, bias != null ? bias.Data : default);
        return bias == null ? Record(new LinearFunction(false, rows, inF, outF), y, x, weight) : Record(new LinearFunction(true, rows, inF, outF), y, x, weight, bias);
    }

    protected internal override Tensor?[] Backward(Tensor g)
    {
        var (x, w) = (Inputs[0], Inputs[1]);
        int inF = w.Size(1), outF = w.Size(0), rows = x.Numel / inF;
        bool needBias = _hasBias && NeedsGrad(2);
        if (GradMode.IsEnabled)
        {
            var g2 = g.Reshape(rows, outF);
            var x2 = x.Reshape(rows, inF);
            var gx = NeedsGrad(0) ? LinearInputGradient.Apply(g2, w) : null;
            if (gx != null && x.Rank != 2) gx = gx.Reshape(x.Shape);
            var gw = NeedsGrad(1) ? g2.MatMul(x2, transposeThis: true) : null;
            return _hasBias ? [gx, gw, needBias ? g2.Sum(0) : null] : [gx, gw];
        }

        Tensor? dx = null, dw = null, db = null;
        if (ThinLinear.SuitsBackward(rows, inF, outF))
        {
            // One pass over g and x for all three (the optimizer's fused step, for a weight this small, is not worth a pass of its own).
            dx = NeedsGrad(0) ? Tensor.Uninitialized(x.ShapeSpan) : null;
            dw = NeedsGrad(1) ? Tensor.Uninitialized(w.ShapeSpan) : null;
            db = needBias ? Tensor.Uninitialized([outF]) : null;
            ThinLinear.Backward(g.Storage, x.Storage, w.Storage, dx?.Storage, dw?.Storage, db?.Storage, rows, inF, outF);
            return _hasBias ? [dx, dw, db] : [dx, dw];
        }
        if (NeedsGrad(0))
        {
            dx = Tensor.Uninitialized(x.ShapeSpan);
            Gemm.InputGradient(rows, inF, outF, g.Data, w.Data, dx.Data);
        }
        // dx above read W: now the weight may take its optimizer's step in the product that would make dw (never made then).
        if (NeedsGrad(1) && FusedStepOf(1)?.TryStepWithProduct(true, false, outF, inF, rows, 1f, g.Data, outF, x.Data, inF) != true)
        {
            dw = Tensor.Uninitialized(w.ShapeSpan);
            Gemm.Sgemm(true, false, outF, inF, rows, 1f, g.Data, outF, x.Data, inF, 0f, dw.Data, inF);
        }
        if (needBias)
        {
            db = Tensor.Uninitialized([outF]);
            Reduce.Sum(g.Data, [rows, outF], [0], db.Data);
        }
        return _hasBias ? [dx, dw, db] : [dx, dw];
    }
}

/// <summary>
/// dx = g·W (g rows × out, W out × in) as a Function: a Linear layer's input gradient where the backward keeps a graph
/// (a gradient penalty's ∇ₓD, R1). The product is <see cref="Gemm.InputGradient"/>'s, so dx has the same bits with a graph
/// as without one, and over a wide weight each thread reads the half of W's rows the forward and the step give it (through
/// a plain MatMul dx was split over its columns, summed in another order). Its own backward:
/// ∂/∂g = gg·Wᵀ, a Linear forward of gg with W, and ∂/∂W = gᵀ·gg, both differentiable.
/// </summary>
internal sealed class LinearInputGradient : Function
{
    readonly int _rows, _in, _out;

    LinearInputGradient(int rows, int inF, int outF) => (_rows, _in, _out) = (rows, inF, outF);

    protected internal override string ProfileName => $"LinearInputGradient {_rows}x{_out}->{_in}";

    /// <summary>g (rows, out) and W (out, in), both contiguous, to dx (rows, in).</summary>
    public static Tensor Apply(Tensor g, Tensor weight)
    {
        if (g.Rank != 2 || weight.Rank != 2 || g.Size(1) != weight.Size(0))
            throw new ArgumentException($"LinearInputGradient: gradient {Shapes.Format(g.ShapeSpan)} does not match weight {Shapes.Format(weight.ShapeSpan)}");
        int rows = g.Size(0), outF = weight.Size(0), inF = weight.Size(1);
        var dx = Tensor.Uninitialized([rows, inF]);
        Gemm.InputGradient(rows, inF, outF, g.Data, weight.Data, dx.Data);
        return Record(new LinearInputGradient(rows, inF, outF), dx, g, weight);
    }

    // gg has dx's shape, (rows, in).
    protected internal override Tensor?[] Backward(Tensor gg)
    {
        var (g, w) = (Inputs[0], Inputs[1]);
        return [NeedsGrad(0) ? LinearFunction.Apply(gg, w, null) : null, NeedsGrad(1) ? g.MatMul(gg, transposeThis: true) : null];
    }
}
