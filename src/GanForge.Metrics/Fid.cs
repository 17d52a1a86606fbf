using MathNet.Numerics.LinearAlgebra;

namespace GanForge.Metrics;

/// <summary>
/// Fréchet Inception Distance (Heusel et al. 2017) computed on any evaluator's features: the
/// Fréchet (2-Wasserstein) distance between Gaussians fitted to real and generated features.
/// </summary>
/// <remarks>
/// FID = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr(sqrtm(S1 S2)).
/// S1 S2 is not symmetric, and a general matrix square root (scipy.linalg.sqrtm, as pytorch-fid)
/// can return small imaginary parts. Instead we use that S1 S2 is similar to the symmetric PSD
/// matrix M = sqrt(S1) S2 sqrt(S1) (same eigenvalues), so Tr(sqrtm(S1 S2)) = sum_i sqrt(lambda_i(M)),
/// with sqrt(S1) and the eigenvalues of M from symmetric eigendecompositions and eigenvalues
/// clamped at 0 (they are >= 0 in exact arithmetic; rounding makes tiny ones negative).
/// </remarks>
public sealed class Fid : IMetric
{
    /// <inheritdoc/>
    public string Name => "fid";

    /// <summary>Cached statistics of the real features; when set, <see cref="MetricInputs.RealFeatures"/> is not needed.</summary>
    public FeatureStatistics? RealStatistics { get; init; }

    /// <inheritdoc/>
    public MetricResult Compute(MetricInputs inputs)
    {
        var fake = FeatureStatistics.Compute(inputs.Require(inputs.FakeFeatures, "fid", nameof(inputs.FakeFeatures)));
        var real = RealStatistics ?? FeatureStatistics.Compute(inputs.Require(inputs.RealFeatures, "fid", nameof(inputs.RealFeatures)));
        var (fid, meanTerm, traceTerm) = Terms(real, fake);
        return new MetricResult
        {
            Name = Name,
            Value = fid,
            Extras = new Dictionary<string, double> { ["mean_term"] = meanTerm, ["trace_term"] = traceTerm },
            Protocol = inputs.Protocol,
        };
    }

    /// <summary>FID between two feature sets, (N1, D) and (N2, D).</summary>
    public static double Between(FeatureMatrix real, FeatureMatrix fake)
    {
        FeatureMatrix.CheckSameDim(real, fake, "FID");
        return Terms(FeatureStatistics.Compute(real), FeatureStatistics.Compute(fake)).Fid;
    }

    /// <summary>The Fréchet distance between N(mu1, s1) and N(mu2, s2); s1, s2 are (D, D) row-major.</summary>
    public static double FrechetDistance(ReadOnlySpan<double> mu1, ReadOnlySpan<double> s1, ReadOnlySpan<double> mu2, ReadOnlySpan<double> s2) =>
        Terms(new FeatureStatistics(mu1.ToArray(), s1.ToArray(), 0), new FeatureStatistics(mu2.ToArray(), s2.ToArray(), 0)).Fid;

    /// <summary>The Fréchet distance between two fitted Gaussians.</summary>
    public static double FrechetDistance(FeatureStatistics a, FeatureStatistics b) => Terms(a, b).Fid;

    static (double Fid, double MeanTerm, double TraceTerm) Terms(FeatureStatistics a, FeatureStatistics b)
    {
        if (a.Dim != b.Dim)
            throw new ArgumentException($"FID: statistics of dimension {a.Dim} and {b.Dim} differ");
        int d = a.Dim;
        double meanTerm = 0;
        for (int i = 0; i < d; i++) { double t = a.Mean[i] - b.Mean[i]; meanTerm += t * t; }

        var s1 = Matrix<double>.Build.Dense(d, d, (i, j) => a.Covariance[i * d + j]);
        var s2 = Matrix<double>.Build.Dense(d, d, (i, j) => b.Covariance[i * d + j]);
        var sqrtS1 = SymmetricSqrt(s1);
        var m = sqrtS1 * s2 * sqrtS1;
        m = (m + m.Transpose()) * 0.5; // restore the symmetry rounding broke, so the symmetric solver applies
        var eig = m.Evd(Symmetricity.Symmetric).EigenValues;
        double traceSqrt = 0;
        for (int i = 0; i < d; i++) traceSqrt += Math.Sqrt(Math.Max(eig[i].Real, 0));

        double traceTerm = s1.Trace() + s2.Trace() - 2 * traceSqrt;
        return (meanTerm + traceTerm, meanTerm, traceTerm);
    }

    /// <summary>The PSD square root of a symmetric PSD matrix: V diag(sqrt(max(lambda, 0))) V^T.</summary>
    internal static Matrix<double> SymmetricSqrt(Matrix<double> s)
    {
        var evd = s.Evd(Symmetricity.Symmetric);
        var v = evd.EigenVectors;
        var sq = Vector<double>.Build.Dense(s.RowCount, i => Math.Sqrt(Math.Max(evd.EigenValues[i].Real, 0)));
        return v * Matrix<double>.Build.DiagonalOfDiagonalVector(sq) * v.Transpose();
    }
}
