namespace GanForge.Tests;

/// <summary>Same-shape binary ops from 32k elements are split over threads in contiguous ranges.</summary>
[Collection("Threading")]
public class ElementwiseThreadsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void SameShapeOps_SplitOverThreads_GiveEachElementItsOwnResult(int threads)
    {
        var a = Tensor.Randn([7, 10_001], new Generator(9));
        var b = Tensor.Randn([7, 10_001], new Generator(10)) + 3f;
        Tensor sum = null!, product = null!, quotient = null!, difference = null!;
        ThreadingTests.WithThreads(threads, () => { sum = a + b; product = a * b; quotient = a / b; difference = a - b; });
        var (av, bv) = (a.ToArray(), b.ToArray());
        var (s, p, q, d) = (sum.ToArray(), product.ToArray(), quotient.ToArray(), difference.ToArray());
        for (int i = 0; i < av.Length; i++)
        {
            Assert.Equal(av[i] + bv[i], s[i], 1e-6f);
            Assert.Equal(av[i] * bv[i], p[i], 1e-6f);
            Assert.Equal(av[i] / bv[i], q[i], 1e-5f);
            Assert.Equal(av[i] - bv[i], d[i], 1e-6f);
        }
    }
}
