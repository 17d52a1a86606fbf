using System.Diagnostics;
using System.Text;

namespace GanForge;

/// <summary>
/// A float32 tensor of any rank with contiguous row-major storage, taking part in
/// define-by-run automatic differentiation. Reshapes share storage; every other op
/// produces a new contiguous tensor.
/// </summary>
public sealed partial class Tensor
{
    readonly int[] _shape;
    bool _requiresGrad;

    /// <summary>Backing storage; elements [0, Numel) belong to this tensor.</summary>
    internal readonly float[] Storage;

    /// <summary>Creates a tensor over existing storage (no copy).</summary>
    internal Tensor(float[] storage, int[] shape)
    {
        _shape = shape;
        Numel = Shapes.Numel(shape);
        if (storage.Length < Numel)
            throw new ArgumentException($"Tensor: storage of {storage.Length} elements is too small for shape {Shapes.Format(shape)}");
        Storage = storage;
    }

    /// <summary>Creates a zero-filled tensor of the given shape.</summary>
    public Tensor(params int[] shape) : this(ZeroedStorage(Shapes.Numel(shape)), (int[])shape.Clone()) { }

    static float[] ZeroedStorage(int numel)
    {
        AllocationLimit.Take(numel);
        if (numel < StoragePool.MinLength) return new float[numel];
        var storage = StoragePool.Rent(numel);
        storage.AsSpan().Clear();
        return storage;
    }

    /// <summary>Number of elements.</summary>
    public int Numel { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>A copy of the shape.</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>The shape without copying.</summary>
    public ReadOnlySpan<int> ShapeSpan => _shape;

    /// <summary>Size of dimension <paramref name="dim"/>; negative dims count from the end.</summary>
    public int Size(int dim) => _shape[Shapes.NormalizeDim(dim, Rank, "Size")];

    /// <summary>The elements, row-major. Writing through this span bypasses autograd.</summary>
    public Span<float> Data => Storage.AsSpan(0, Numel);

    /// <summary>The gradient accumulated by <see cref="Backward"/> for a leaf that requires grad.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>The function that produced this tensor, or null for a leaf.</summary>
    public Function? GradFn { get; internal set; }

    /// <summary>True for tensors created by the user rather than by a recorded op.</summary>
    public bool IsLeaf => GradFn == null;

    /// <summary>Optional name, used in error messages and state dicts.</summary>
    public string? Name { get; set; }

    /// <summary>Whether gradients flow to (leaf) or through (non-leaf) this tensor.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!IsLeaf && !value)
                throw new InvalidOperationException("RequiresGrad: cannot turn off gradients of a non-leaf tensor; use Detach()");
            _requiresGrad = value;
        }
    }

    internal void MarkRequiresGrad() => _requiresGrad = true;

    /// <summary>
    /// Set for an intermediate result nothing outside the graph can reach (by <c>Sequential</c> between pure layers,
    /// by a network's <c>Module.Release</c>, by the engine for the gradients a backward with a graph made): once the
    /// engine has run the backward of the node that made it (without retaining the graph), its buffer goes back to
    /// <see cref="StoragePool"/>. Cleared when it has.
    /// </summary>
    internal bool RecycleAfterBackward { get; set; }

    /// <summary>
    /// Set when a backward with a graph ran the node that made this tensor or a node it feeds: the nodes that backward
    /// recorded may read it without an edge (LeakyReLU's gradient keeps its input for its mask), so no later backward
    /// orders them before the tensor's buffer would be recycled. The engine then leaves it;
    /// <see cref="Autograd.ReleaseGraph"/> may give it back once those nodes are done.
    /// </summary>
    internal bool ReadByGradientGraph { get; set; }

    /// <summary>The optimizer's step armed on this leaf for the running backward (<see cref="FusedStep"/>), or null.</summary>
    internal FusedStep? PendingStep { get; set; }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor (fluent).</summary>
    public Tensor RequiresGrad_(bool requiresGrad = true) { RequiresGrad = requiresGrad; return this; }

    /// <summary>
    /// Gives this tensor's buffer back to the engine's pool, for the next tensor of its size: for a caller that made
    /// the tensor and knows that nothing holds it or a view of it any more (its graph's backward has run). Reading
    /// the tensor afterwards reads whatever the buffer's next owner writes.
    /// </summary>
    public void ReturnToPool() => StoragePool.Return(Storage);

    /// <summary>True when this tensor and <paramref name="other"/> read and write the same buffer (one is a view or detached copy of the other).</summary>
    public bool SharesBufferWith(Tensor other) => ReferenceEquals(Storage, other.Storage);

    /// <summary>A tensor sharing storage with this one, outside the graph.</summary>
    public Tensor Detach() => new(Storage, _shape);

    /// <summary>A deep copy outside the graph.</summary>
    public Tensor Clone()
    {
        var t = new Tensor(_shape);
        Data.CopyTo(t.Data);
        return t;
    }

    /// <summary>The elements as a new array.</summary>
    public float[] ToArray() => Data.ToArray();

    /// <summary>The single value of a one-element tensor.</summary>
    public float Item()
    {
        if (Numel != 1)
            throw new InvalidOperationException($"Item: tensor of shape {Shapes.Format(_shape)} has {Numel} elements, expected 1");
        return Storage[0];
    }

    /// <summary>Element at a multi-index (read only, for tests and debugging).</summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public float this[params int[] index]
    {
        get
        {
            if (index.Length != Rank)
                throw new ArgumentException($"Indexer: {index.Length} indices for tensor of rank {Rank}");
            int flat = 0;
            for (int d = 0; d < Rank; d++)
            {
                int i = index[d] < 0 ? index[d] + _shape[d] : index[d];
                if ((uint)i >= (uint)_shape[d])
                    throw new IndexOutOfRangeException($"Indexer: index {index[d]} out of range for dim {d} of size {_shape[d]}");
                flat = flat * _shape[d] + i;
            }
            return Storage[flat];
        }
    }

    /// <summary>Computes gradients of this tensor with respect to graph leaves, accumulating into their <see cref="Grad"/>.</summary>
    /// <param name="gradient">Gradient of the final objective w.r.t. this tensor; required unless this is a scalar.</param>
    /// <param name="retainGraph">Keep the graph so Backward can be called again; defaults to <paramref name="createGraph"/>, as in PyTorch
    /// (a recorded gradient is differentiated through the forward graph, so that graph must survive).</param>
    /// <param name="createGraph">Record the backward pass so the gradients can be differentiated again.</param>
    public void Backward(Tensor? gradient = null, bool? retainGraph = null, bool createGraph = false)
        => Autograd.Backward(this, gradient, retainGraph ?? createGraph, createGraph);

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("tensor(");
        int shown = Math.Min(Numel, 8);
        sb.Append('[');
        for (int i = 0; i < shown; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(Storage[i].ToString("G5", System.Globalization.CultureInfo.InvariantCulture));
        }
        if (Numel > shown) sb.Append(", ...");
        sb.Append("], shape=").Append(Shapes.Format(_shape));
        if (GradFn != null) sb.Append(", grad_fn=").Append(GradFn.Name);
        else if (RequiresGrad) sb.Append(", requires_grad=True");
        return sb.Append(')').ToString();
    }

    [Conditional("DEBUG")]
    internal void AssertShape(params int[] shape) => Debug.Assert(ShapeSpan.SequenceEqual(shape));
}
