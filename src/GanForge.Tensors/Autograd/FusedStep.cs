namespace GanForge;

/// <summary>
/// An optimizer's step on one parameter, applied by the backward where it makes the parameter's gradient, so that the
/// gradient never goes to memory as a whole (PyTorch's optimizer in the backward, here inside the product that makes
/// the gradient). Armed on a leaf for one backward by <c>Optimizer.BackwardAndStep</c>; taken by a Linear layer for its
/// weight where the weight has no other use in the graph and no gradient yet (<see cref="Function.FusedStepOf"/>).
/// Everywhere else the gradient is made and accumulated as usual and the optimizer steps it after the backward.
/// </summary>
public abstract class FusedStep
{
    /// <summary>
    /// Steps the parameter, an m × n matrix, with the gradient alpha·op(A)·op(B) (A: (m,k) or (k,m) if transA; B: (k,n) or
    /// (n,k) if transB); false, with nothing done, where it cannot (the caller then makes the gradient).
    /// </summary>
    public abstract bool TryStepWithProduct(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb);
}
