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
/// gradients) it is written with differentiable ops instead.
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
            var gx = NeedsGrad(0) ? g2.MatMul(w).Reshape(x.Shape) : null;
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
