using System.Diagnostics;

namespace GanForge.Distributed;

/// <summary>
/// Data-parallel training's gradient step (DDP's reducer, without its overlap with backward): after each backward,
/// the gradients of a fixed list of parameters are packed into one flat buffer, summed over the ranks in messages of
/// at most <see cref="BucketBytes"/>, divided by the number of ranks and unpacked, so every rank steps its optimizer
/// with the same averaged gradient.
/// </summary>
/// <remarks>
/// The mean over ranks of per-rank mean losses is the mean over the global batch when the shards are of equal size,
/// so the averaged gradient is the one a single process would compute on the whole batch (up to the order of float
/// additions). Parameters without a gradient are skipped; since every rank runs the same graph, they are the same on
/// every rank. A few extra values (the loss, for one agreed finiteness check) travel in the same message.
/// </remarks>
public sealed class GradientAllReduce
{
    readonly IProcessGroup _group;
    readonly Tensor[] _parameters;
    float[] _buffer = [];
    readonly Stopwatch _clock = new();

    /// <param name="group">The ranks to average over.</param>
    /// <param name="parameters">The parameters whose gradients are averaged (an optimizer's), in the same order on every rank.</param>
    /// <param name="bucketBytes">The largest message; a bigger gradient set goes in several.</param>
    public GradientAllReduce(IProcessGroup group, IEnumerable<Tensor> parameters, int bucketBytes = DefaultBucketBytes)
    {
        if (bucketBytes < sizeof(float)) throw new ArgumentException($"GradientAllReduce: bucket of {bucketBytes} bytes holds no float");
        _group = group;
        _parameters = [.. parameters];
        BucketBytes = bucketBytes;
    }

    /// <summary>25 MiB, DDP's default bucket: far larger than the per-message latency matters for.</summary>
    public const int DefaultBucketBytes = 25 << 20;

    /// <summary>The largest message in bytes.</summary>
    public int BucketBytes { get; }

    /// <summary>Time spent in <see cref="Average"/> (packing, the allreduce and unpacking), over all calls.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Calls of <see cref="Average"/> so far.</summary>
    public long Calls { get; private set; }

    /// <summary>Bytes allreduced by the last call (gradients and extras).</summary>
    public long LastBytes { get; private set; }

    /// <summary>Replaces every present gradient, and each of <paramref name="extra"/>, by its mean over the ranks.</summary>
    public void Average(Span<float> extra)
    {
        _clock.Start();
        try
        {
            int total = extra.Length;
            foreach (var p in _parameters) if (p.Grad is { } g) total += g.Numel;
            if (_buffer.Length < total) _buffer = new float[total];
            var buffer = _buffer.AsSpan(0, total);

            int offset = 0;
            foreach (var p in _parameters)
                if (p.Grad is { } g) { g.Data.CopyTo(buffer[offset..]); offset += g.Numel; }
            extra.CopyTo(buffer[offset..]);

            int bucket = BucketBytes / sizeof(float);
            for (int start = 0; start < total; start += bucket)
                _group.AllReduce(buffer.Slice(start, Math.Min(bucket, total - start)));
            System.Numerics.Tensors.TensorPrimitives.Multiply(buffer, 1f / _group.Size, buffer);

            offset = 0;
            foreach (var p in _parameters)
                if (p.Grad is { } g) { buffer.Slice(offset, g.Numel).CopyTo(g.Data); offset += g.Numel; }
            buffer[offset..].CopyTo(extra);
            LastBytes = (long)total * sizeof(float);
            Calls++;
        }
        finally { _clock.Stop(); }
    }
}
