using GanForge.Kernels;

namespace GanForge.Tensors.Tests;

/// <summary>Normals on lanes (Generator.FillNormal, Tensor.Randn) against the scalar Box–Muller of NextNormal.</summary>
public class GeneratorTests
{
    [Fact]
    public void BoxMuller_Normals_MatchScalarFormula()
    {
        // Every quadrant and its boundaries (u2 = 0, 1/8, 1/4, ..., the largest below 1), u1 from 2^-53 to the largest below 1.
        var g = new Generator(31);
        int n = 100_003;
        var u1 = new double[n]; var u2 = new double[n];
        for (int i = 0; i < n; i++) { u1[i] = Math.Max(g.NextDouble(), 1.0 / (1UL << 53)); u2[i] = g.NextDouble(); }
        double[] edges = [0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1 - 1.0 / (1UL << 53), 1e-300, 0.2500000000000001];
        for (int i = 0; i < edges.Length; i++) (u1[i], u2[i]) = (i == 0 ? 1.0 / (1UL << 53) : 1 - 1.0 / (1UL << 53) * i, edges[i]);
        var (cos, sin, cosRef, sinRef) = (new double[n], new double[n], new double[n], new double[n]);
        BoxMuller.Normals(u1, u2, cos, sin);
        BoxMuller.NormalsReference(u1, u2, cosRef, sinRef);
        // |r| <= 8.6: fdlibm's kernels within an ulp of sin and cos, and the scalar path's rounding of 2π·u2 (4.4e-16)
        for (int i = 0; i < n; i++)
        {
            double r = Math.Sqrt(-2.0 * Math.Log(u1[i]));
            Assert.True(Math.Abs(cos[i] - cosRef[i]) <= 2e-15 * Math.Max(r, 1), $"cos at u1 {u1[i]:R}, u2 {u2[i]:R}: {cos[i]:R} vs {cosRef[i]:R}");
            Assert.True(Math.Abs(sin[i] - sinRef[i]) <= 2e-15 * Math.Max(r, 1), $"sin at u1 {u1[i]:R}, u2 {u2[i]:R}: {sin[i]:R} vs {sinRef[i]:R}");
        }
    }

    [Theory]
    [InlineData(new[] { 0, 1, 7, 256, 1001 })]    // a spare left and taken again, whole chunks of 128 pairs, odd ends
    [InlineData(new[] { 6400, 6400 })]            // two latent batches of 64 x 100
    public void FillNormal_SameStreamAsNextNormal(int[] lengths)
    {
        var (lanes, scalar) = (new Generator(77), new Generator(77));
        foreach (int length in lengths)
        {
            var a = new float[length];
            lanes.FillNormal(a);
            var b = Enumerable.Range(0, length).Select(_ => (float)scalar.NextNormal()).ToArray();
            Fixtures.AssertClose(Tensor.Wrap(b, [length]), Tensor.Wrap(a, [length]), 3e-7, 1e-7, $"{length} normals");
            // the same uniforms were drawn, and the same spare is waiting
            var (sa, sb) = (lanes.GetState(), scalar.GetState());
            Assert.Equal(sb[..5], sa[..5]);
            Assert.Equal(BitConverter.UInt64BitsToDouble(sb[5]), BitConverter.UInt64BitsToDouble(sa[5]), 1e-14);
        }
        // and the streams go on together: a scalar draw after a fill takes the fill's spare
        Assert.Equal(scalar.NextNormal(), lanes.NextNormal(), 1e-14);
    }

    [Fact]
    public void FillNormal_BetweenOtherDraws_SameStreamAsNextNormal()
    {
        // StyleGAN's per-sample streams: a uniform and an integer, then short fills (its noise maps, odd lengths leaving a
        // spare); the state the fill draws with must be the generator's own, before and after.
        var (lanes, scalar) = (new Generator(91), new Generator(91));
        for (int sample = 0; sample < 20; sample++)
        {
            Assert.Equal(scalar.NextFloat(), lanes.NextFloat());
            Assert.Equal(scalar.NextInt(7), lanes.NextInt(7));
            foreach (int length in (int[])[16, 7, 1, 64])
            {
                var a = new float[length];
                lanes.FillNormal(a);
                var b = Enumerable.Range(0, length).Select(_ => (float)scalar.NextNormal()).ToArray();
                Fixtures.AssertClose(Tensor.Wrap(b, [length]), Tensor.Wrap(a, [length]), 3e-7, 1e-7, $"sample {sample}, {length} normals");
            }
            Assert.Equal(scalar.NextUInt64(), lanes.NextUInt64());
        }
    }

    [Fact]
    public void Randn_Moments_StandardNormal()
    {
        var x = Tensor.Randn([200_000], new Generator(5)).ToArray();
        double mean = x.Average(v => (double)v), variance = x.Average(v => (v - mean) * (v - mean));
        double fourth = x.Average(v => Math.Pow(v - mean, 4)) / (variance * variance);
        Assert.InRange(mean, -0.01, 0.01);             // standard error 0.0022
        Assert.InRange(variance, 0.985, 1.015);        // standard error 0.0032
        Assert.InRange(fourth, 2.95, 3.05);            // kurtosis 3, standard error ~0.011
    }
}
