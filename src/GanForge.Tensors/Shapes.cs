namespace GanForge;

/// <summary>Shape arithmetic shared by ops: element counts, broadcasting, dims, formatting.</summary>
public static class Shapes
{
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int s in shape)
        {
            if (s < 0) throw new ArgumentException($"Shape {Format(shape)} has a negative size");
            n *= s;
        }
        if (n > int.MaxValue) throw new ArgumentException($"Shape {Format(shape)} has more than 2^31-1 elements");
        return (int)n;
    }

    /// <summary>Formats a shape as PyTorch prints it: (64,3,28,28).</summary>
    public static string Format(ReadOnlySpan<int> shape) => "(" + string.Join(",", shape.ToArray()) + ")";

    /// <summary>Maps a possibly negative dim into [0, rank); throws naming the op otherwise.</summary>
    public static int NormalizeDim(int dim, int rank, string op)
    {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= Math.Max(rank, 1))
            throw new ArgumentException($"{op}: dim {dim} is out of range for a tensor of rank {rank}");
        return d;
    }

    /// <summary>The broadcast shape of two shapes (NumPy rules), or an error naming the op.</summary>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast together");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Row-major strides of a contiguous tensor.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    /// <summary>Strides for reading a tensor of <paramref name="shape"/> broadcast to <paramref name="target"/> (0 on broadcast dims).</summary>
    public static int[] BroadcastStrides(ReadOnlySpan<int> shape, ReadOnlySpan<int> target)
    {
        var own = Strides(shape);
        var s = new int[target.Length];
        int off = target.Length - shape.Length;
        for (int i = 0; i < target.Length; i++)
        {
            int j = i - off;
            s[i] = j < 0 || shape[j] == 1 ? 0 : own[j];
        }
        return s;
    }

    /// <summary>Resolves a single -1 in a requested shape against an element count.</summary>
    public static int[] InferReshape(ReadOnlySpan<int> requested, int numel, ReadOnlySpan<int> from)
    {
        var shape = requested.ToArray();
        int infer = -1; long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Reshape: only one dimension can be -1, got {Format(requested)}");
                infer = i;
            }
            else known *= shape[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || numel % known != 0)
                throw new ArgumentException($"Reshape: cannot reshape {Format(from)} ({numel} elements) to {Format(requested)}");
            shape[infer] = (int)(numel / known);
        }
        if (Numel(shape) != numel)
            throw new ArgumentException($"Reshape: cannot reshape {Format(from)} ({numel} elements) to {Format(requested)}");
        return shape;
    }

    /// <summary>Normalizes a list of dims (possibly negative) into a sorted set; empty means all dims.</summary>
    public static int[] NormalizeDims(ReadOnlySpan<int> dims, int rank, string op)
    {
        if (dims.Length == 0) return Enumerable.Range(0, rank).ToArray();
        var set = new SortedSet<int>();
        foreach (int d in dims)
            if (!set.Add(NormalizeDim(d, rank, op)))
                throw new ArgumentException($"{op}: dim {d} appears more than once");
        return set.ToArray();
    }

    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);
}
