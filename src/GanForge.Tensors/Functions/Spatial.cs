using GanForge.Kernels;

namespace GanForge.Functions;

/// <summary>
/// A fixed linear map between (N,C,H,W) tensors together with its adjoint. Pooling, upsampling,
/// padding, and max pooling once its argmax is fixed are all of this kind, so one Function covers them.
/// </summary>
internal abstract class SpatialMap(string name, int[] inShape, int[] outShape)
{
    public string Name { get; } = name;
    public int[] InShape { get; } = inShape;
    public int[] OutShape { get; } = outShape;
    public int Planes => InShape[0] * InShape[1];

    /// <summary>y = A x; y is fully overwritten.</summary>
    public abstract void Forward(float[] x, float[] y);

    /// <summary>dx = Aᵀ g; dx is fully overwritten.</summary>
    public abstract void Adjoint(float[] g, float[] dx);
}

/// <summary>Y = Rh X Rwᵀ per plane (pooling, adaptive pooling, nearest/bilinear, padding).</summary>
internal sealed class SeparableMap(string name, int n, int c, AxisMap rows, AxisMap cols)
    : SpatialMap(name, [n, c, rows.InSize, cols.InSize], [n, c, rows.OutSize, cols.OutSize])
{
    public AxisMap Rows => rows;
    public AxisMap Cols => cols;
    public override void Forward(float[] x, float[] y) => Separable.Forward(x, y, Planes, rows, cols);
    public override void Adjoint(float[] g, float[] dx) => Separable.Adjoint(g, dx, Planes, rows, cols);
}

/// <summary>y[p, o] = x[p, idx[p, o]] per plane (max pooling with its argmax fixed).</summary>
internal sealed class GatherMap(string name, int[] inShape, int[] outShape, int[] idx) : SpatialMap(name, inShape, outShape)
{
    int InPlane => InShape[2] * InShape[3];
    int OutPlane => OutShape[2] * OutShape[3];
    public override void Forward(float[] x, float[] y) => MaxPool.Gather(x, idx, y, Planes, InPlane, OutPlane);
    public override void Adjoint(float[] g, float[] dx) => MaxPool.Scatter(g, idx, dx, Planes, InPlane, OutPlane);
}

// y = A x for a fixed linear map A (or y = Aᵀ x when adjoint); dx = Aᵀ g (resp. A g).
// The backward is the same Function with the flag flipped, so every order of derivative works.
internal sealed class LinearSpatial(SpatialMap map, bool adjoint) : Function
{
    public override string Name => map.Name + (adjoint ? "BackwardBackward" : "Backward");

    /// <summary>"LinearSpatial Pad(reflect) 4x256x8x8->10x10" (the adjoint's "... adjoint"): which map, on what.</summary>
    protected internal override string ProfileName =>
        $"LinearSpatial {map.Name} {Shapes.Format(map.InShape).Trim('(', ')').Replace(',', 'x')}->{map.OutShape[2]}x{map.OutShape[3]}{(adjoint ? " adjoint" : "")}";

    public static Tensor Apply(Tensor x, SpatialMap map, bool adjoint = false)
    {
        var inShape = adjoint ? map.OutShape : map.InShape;
        if (!x.ShapeSpan.SequenceEqual(inShape))
            throw new ArgumentException($"{map.Name}: input {Shapes.Format(x.ShapeSpan)} does not match {Shapes.Format(inShape)}");
        var y = Tensor.Uninitialized(adjoint ? map.InShape : map.OutShape);   // the maps overwrite their output
        if (adjoint) map.Adjoint(x.Storage, y.Storage); else map.Forward(x.Storage, y.Storage);
        return Record(new LinearSpatial(map, adjoint), y, x);
    }

    protected internal override Tensor?[] Backward(Tensor g) => [Apply(g, map, !adjoint)];
}
