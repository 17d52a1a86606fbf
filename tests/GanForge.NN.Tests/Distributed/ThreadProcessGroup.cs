using GanForge.Distributed;

namespace GanForge.NN.Tests;

/// <summary>
/// An in-process stand-in for MPI: <see cref="Run{T}"/> runs one body per rank on its own thread, and the
/// collectives meet at a barrier. Reductions add the ranks' values in rank order, so every rank gets the same bits.
/// </summary>
sealed class ThreadProcessGroup : IProcessGroup
{
    sealed class Meeting(int size)
    {
        public readonly Barrier Barrier = new(size);
        public readonly object?[] Slots = new object?[size];
    }

    readonly Meeting _meeting;

    ThreadProcessGroup(Meeting meeting, int rank) { _meeting = meeting; Rank = rank; }

    public int Rank { get; }
    public int Size => _meeting.Slots.Length;

    /// <summary>Runs <paramref name="body"/> as <paramref name="size"/> ranks at once; returns each rank's result.</summary>
    public static T[] Run<T>(int size, Func<IProcessGroup, T> body)
    {
        var meeting = new Meeting(size);
        var results = new T[size];
        var errors = new Exception?[size];
        var threads = Enumerable.Range(0, size).Select(r => new Thread(() =>
        {
            try { results[r] = body(new ThreadProcessGroup(meeting, r)); }
            catch (Exception e) { errors[r] = e; meeting.Barrier.RemoveParticipant(); }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromMinutes(2)), "a rank did not finish"));
        if (errors.FirstOrDefault(e => e != null) is { } error) throw new AggregateException(errors.Where(e => e != null)!);
        return results;
    }

    T[][] Exchange<T>(ReadOnlySpan<T> data)
    {
        _meeting.Slots[Rank] = data.ToArray();
        _meeting.Barrier.SignalAndWait();
        var all = _meeting.Slots.Select(s => (T[])s!).ToArray();
        _meeting.Barrier.SignalAndWait();   // nobody overwrites a slot before all have read
        return all;
    }

    public void AllReduce(Span<float> data, ReduceOp op = ReduceOp.Sum)
    {
        var all = Exchange<float>(data);
        for (int i = 0; i < data.Length; i++)
        {
            float v = all[0][i];
            for (int r = 1; r < all.Length; r++) v = op switch { ReduceOp.Sum => v + all[r][i], ReduceOp.Max => Math.Max(v, all[r][i]), _ => Math.Min(v, all[r][i]) };
            data[i] = v;
        }
    }

    public void AllReduce(Span<double> data, ReduceOp op = ReduceOp.Sum)
    {
        var all = Exchange<double>(data);
        for (int i = 0; i < data.Length; i++)
        {
            double v = all[0][i];
            for (int r = 1; r < all.Length; r++) v = op switch { ReduceOp.Sum => v + all[r][i], ReduceOp.Max => Math.Max(v, all[r][i]), _ => Math.Min(v, all[r][i]) };
            data[i] = v;
        }
    }

    public void Broadcast(Span<byte> data, int root = 0)
    {
        var all = Exchange<byte>(data);
        all[root].CopyTo(data);
    }

    public void Barrier() => Exchange<byte>([]);

    public void Abort(int exitCode) => throw new InvalidOperationException($"rank {Rank} aborted with {exitCode}");
}
