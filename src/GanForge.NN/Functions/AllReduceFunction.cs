using GanForge.Distributed;

namespace GanForge.Functions;

// y = Σ_ranks x;  dx = Σ_ranks dy: every rank's output depends on every rank's input, so the gradient reaching this
// rank's x is the sum of the gradients of all ranks' y. Backward is the same op, so gradients of gradients work.
internal sealed class AllReduceFunction(IProcessGroup group) : Function
{
    public static Tensor Apply(Tensor x, IProcessGroup group)
    {
        var y = new Tensor(x.Shape);
        x.Data.CopyTo(y.Data);
        group.AllReduce(y.Data);
        return Record(new AllReduceFunction(group), y, x);
    }

    // Runs on every rank whenever it runs on one: the ranks hold the same graph and walk it in the same order.
    protected internal override Tensor?[] Backward(Tensor g) => [NeedsGrad(0) ? Apply(g, group) : null];
}
