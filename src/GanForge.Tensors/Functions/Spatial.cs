using System.Buffers;
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

    /// <summary>One more node of a graph reads this map: it calls <see cref="Release"/> when released.</summary>
    public virtual void Hold() { }

    /// <summary>A holder is done with the map (a node released, or its maker once the node holds it).</summary>
    public virtual void Release() { }
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

/// <summary>
/// y[p, o] = x[p, idx[p, o]] per plane (max pooling with its argmax fixed). The indices come from the shared pool (each
/// call of SRGAN's content loss took 512 KB of fresh memory for them, a page fault per 4 KB) and go back when the last of
/// their holders releases them: the maker, and each node of a graph that reads them (the forward's, and the nodes a
/// backward with a graph makes from it).
/// </summary>
internal sealed class GatherMap : SpatialMap
{
    int[]? _idx;
    int _holders = 1;

    /// <summary>The map over indices rented from <see cref="ArrayPool{T}.Shared"/> (at least one per output), held by its maker.</summary>
    public GatherMap(string name, int[] inShape, int[] outShape, int[] idx) : base(name, inShape, outShape) => _idx = idx;

    int InPlane => InShape[2] * InShape[3];
    int OutPlane => OutShape[2] * OutShape[3];
    int[] Indices => _idx ?? throw new InvalidOperationException($"{Name}: the indices of the max pooling were given back; its graph was freed");
    public override void Forward(float[] x, float[] y) => MaxPool.Gather(x, Indices, y, Planes, InPlane, OutPlane);
    public override void Adjoint(float[] g, float[] dx) => MaxPool.Scatter(g, Indices, dx, Planes, InPlane, OutPlane);
    public override void Hold() => _holders++;

    /// <summary>Whether the indices went back to the pool (every holder released them).</summary>
    internal bool IndicesReturned => _idx == null;

    public override void Release()
    {
        if (--_holders > 0 || _idx is not { } idx) return;
        _idx = null;
        ArrayPool<int>.Shared.Return(idx);
    }
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
        var node = new LinearSpatial(map, adjoint);
        Record(node, y, x);
        if (ReferenceEquals(y.GradFn, node)) map.Hold();   // released with the node
        return y;
    }

    protected internal override Tensor?[] Backward(Tensor g) => [Apply(g, map, !adjoint)];

    protected internal override void ReleaseSaved() => map.Release();

    /// <summary>The map this node applies (tests read a max pooling's indices' state).</summary>
    internal SpatialMap Map => map;
}
