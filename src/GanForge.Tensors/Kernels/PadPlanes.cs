using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GanForge.Kernels;

/// <summary>
/// Padding of every (H,W) plane along both axes (<see cref="AxisMap.Pad"/>: reflect, replicate, constant, cropping) and
/// its adjoint on AVX-512, for planes of up to <see cref="MaxOutputs"/> positions: the padded plane, read as one row,
/// is made sixteen floats at a time, each one two-vector permute of the input plane (where the sixteen read within 32
/// consecutive floats of it) or two AVX2 gathers; each sixteen inputs of the adjoint sum their readers the same way, one
/// permute or gather per time an output reads them.
/// </summary>
/// <remarks>
/// cyclegan32 pads every residual block's 8 x 8 maps to 10 x 10 by reflection. The index map's AVX2 gathers made 12 x 256
/// such planes in 75 us on two threads and its scatter-add, a float at a time, the adjoint in 92 (a copy of the output
/// takes 27); these permutes take 32 and 50. A first form, a padded row at a time (one masked store of 10 floats), was
/// slower than the gathers: its stores straddled cache lines.
/// <para>
/// The adjoint adds each input's readers in increasing order from 0, as the index map's scatter-add does: the same bits.
/// </para>
/// </remarks>
internal sealed unsafe class PadPlanes
{
    const int Lanes = 16;

    /// <summary>The largest padded plane padded this way (larger planes: <see cref="Separable"/>'s index map).</summary>
    internal const int MaxOutputs = 8192;

    /// <summary>
    /// Sixteen lanes read from a plane: lane l takes float Base + Index[l] where bit l of Valid is set (else 0); where
    /// Gather, float Index[l] by a gather (Base 0).
    /// </summary>
    readonly record struct Chunk(Vector512<int> Index, int Base, ushort Valid, bool Gather);

    readonly int _inPlane, _outPlane;
    readonly Chunk[] _forward;       // per sixteen outputs of the padded plane
    readonly Chunk[][] _adjoint;     // per sixteen inputs, one per time an output reads one of them
    readonly Vector512<float> _outTail, _inTail;

    PadPlanes(int inPlane, int outPlane, Chunk[] forward, Chunk[][] adjoint)
    {
        (_inPlane, _outPlane, _forward, _adjoint) = (inPlane, outPlane, forward, adjoint);
        (_outTail, _inTail) = (LaneMask(outPlane - (forward.Length - 1) * Lanes), LaneMask(inPlane - (adjoint.Length - 1) * Lanes));
    }

    /// <summary>Whether <see cref="Separable"/> pads this way where it can (the bench's `--alternate pad-planes` measures it).</summary>
    internal static bool Enabled { get; set; } = true;

    static readonly ConcurrentDictionary<(AxisMap.PadSpec, AxisMap.PadSpec), PadPlanes> Plans = new();

    /// <summary>The plan for padding maps on both axes, or null where it does not run (no AVX-512, larger planes).</summary>
    public static PadPlanes? For(AxisMap rows, AxisMap cols)
    {
        if (!Enabled || !Avx512F.IsSupported || rows.Padding is not { } rowSpec || cols.Padding is not { } colSpec
            || rows.OutSize * cols.OutSize > MaxOutputs || rows.OutSize * cols.OutSize == 0) return null;
        if (Plans.TryGetValue((rowSpec, colSpec), out var plan)) return plan;
        if (Plans.Count > 256) Plans.Clear();   // shapes a long run no longer uses
        return Plans[(rowSpec, colSpec)] = Build(rows, cols);
    }

    static PadPlanes Build(AxisMap rows, AxisMap cols)
    {
        int inPlane = rows.InSize * cols.InSize, outPlane = rows.OutSize * cols.OutSize;
        var source = Separable.PadIndex(rows, cols);   // the input that padded position q reads, or -1
        var reads = new int[Lanes];
        var forward = new Chunk[(outPlane + Lanes - 1) / Lanes];
        for (int t = 0; t < forward.Length; t++)
        {
            for (int l = 0; l < Lanes; l++) reads[l] = t * Lanes + l < outPlane ? source[t * Lanes + l] : -1;
            forward[t] = ChunkOf(reads);
        }
        // readers[i]: the padded positions that read input i, in increasing order.
        var readers = new List<int>[inPlane];
        for (int i = 0; i < inPlane; i++) readers[i] = [];
        for (int q = 0; q < outPlane; q++) if (source[q] >= 0) readers[source[q]].Add(q);
        var adjoint = new Chunk[(inPlane + Lanes - 1) / Lanes][];
        for (int u = 0; u < adjoint.Length; u++)
        {
            int times = 0;
            for (int i = u * Lanes; i < Math.Min(inPlane, (u + 1) * Lanes); i++) times = Math.Max(times, readers[i].Count);
            adjoint[u] = new Chunk[times];
            for (int k = 0; k < times; k++)
            {
                for (int l = 0; l < Lanes; l++)
                {
                    int i = u * Lanes + l;
                    reads[l] = i < inPlane && k < readers[i].Count ? readers[i][k] : -1;
                }
                adjoint[u][k] = ChunkOf(reads);
            }
        }
        return new PadPlanes(inPlane, outPlane, forward, adjoint);
    }

    // The chunk whose lanes read the given floats of a plane (-1: 0): a permute of the 32 floats from the least, or a
    // gather where they lie further apart.
    static Chunk ChunkOf(int[] reads)
    {
        int lo = int.MaxValue, hi = -1;
        ushort valid = 0;
        for (int l = 0; l < Lanes; l++)
            if (reads[l] >= 0) { lo = Math.Min(lo, reads[l]); hi = Math.Max(hi, reads[l]); valid |= (ushort)(1 << l); }
        if (hi < 0) return new Chunk(Vector512<int>.Zero, 0, 0, false);
        bool gather = hi - lo >= 2 * Lanes;
        int origin = gather ? 0 : lo;
        var index = new int[Lanes];
        for (int l = 0; l < Lanes; l++) index[l] = reads[l] >= 0 ? reads[l] - origin : 0;
        return new Chunk(Vector512.Create(index), origin, valid, gather);
    }

    static readonly Vector512<int> LaneBits = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);

    // The first `count` lanes set.
    static Vector512<float> LaneMask(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    // The sixteen lanes a chunk reads from a plane of `size` floats (no load past its end).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Read(float* plane, int size, in Chunk c)
    {
        Vector512<float> v;
        if (c.Gather) v = Vector512.Create(Avx2.GatherVector256(plane, c.Index.GetLower(), 4), Avx2.GatherVector256(plane, c.Index.GetUpper(), 4));
        else if (c.Base + 2 * Lanes <= size) v = Avx512F.PermuteVar16x32x2(Vector512.Load(plane + c.Base), c.Index, Vector512.Load(plane + c.Base + Lanes));
        else
        {
            int left = size - c.Base;
            v = Avx512F.PermuteVar16x32x2(Avx512F.MaskLoad(plane + c.Base, LaneMask(left), Vector512<float>.Zero), c.Index,
                Avx512F.MaskLoad(plane + c.Base + Lanes, LaneMask(left - Lanes), Vector512<float>.Zero));
        }
        return c.Valid == ushort.MaxValue ? v
            : Vector512.ConditionalSelect(Vector512.Equals(Vector512.Create((int)c.Valid) & LaneBits, LaneBits).AsSingle(), v, Vector512<float>.Zero);
    }

    // x: (planes, H, W) -> y: (planes, OH, OW)
    public void Forward(float[] x, float[] y, int planes)
    {
        int last = _forward.Length - 1;
        Threading.ForRanges(planes, (_, from, to) =>
        {
            fixed (float* px = x, py = y)
            fixed (Chunk* chunks = _forward)
                for (int p = from; p < to; p++)
                {
                    float* xp = px + (long)p * _inPlane, yp = py + (long)p * _outPlane;
                    for (int t = 0; t < last; t++) Read(xp, _inPlane, chunks[t]).Store(yp + t * Lanes);
                    Avx512F.MaskStore(yp + last * Lanes, _outTail, Read(xp, _inPlane, chunks[last]));
                }
        });
    }

    // g: (planes, OH, OW) -> dx: (planes, H, W), overwritten
    public void Adjoint(float[] g, float[] dx, int planes)
    {
        int last = _adjoint.Length - 1;
        Threading.ForRanges(planes, (_, from, to) =>
        {
            fixed (float* pg = g, pd = dx)
                for (int p = from; p < to; p++)
                {
                    float* gp = pg + (long)p * _outPlane, dp = pd + (long)p * _inPlane;
                    for (int u = 0; u <= last; u++)
                    {
                        var sum = Vector512<float>.Zero;
                        foreach (ref readonly var term in _adjoint[u].AsSpan()) sum += Read(gp, _outPlane, term);
                        if (u < last) sum.Store(dp + u * Lanes);
                        else Avx512F.MaskStore(dp + u * Lanes, _inTail, sum);
                    }
                }
        });
    }
}
