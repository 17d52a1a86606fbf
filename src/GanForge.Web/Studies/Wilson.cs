namespace GanForge.Web.Studies;

/// <summary>A two-sided confidence interval for a proportion.</summary>
public sealed record Interval(double Low, double High);

/// <summary>
/// The Wilson score interval for a binomial proportion: unlike the normal ("Wald") interval it stays inside [0, 1]
/// and keeps its coverage near 0 and 1 and for the small counts of a human study.
/// </summary>
/// <remarks>
/// With p̂ = k/n and z the normal quantile (1.96 for 95%):
/// centre = (p̂ + z²/2n) / (1 + z²/n), half-width = z / (1 + z²/n) · √(p̂(1−p̂)/n + z²/4n²).
/// Newcombe (1998), Statistics in Medicine 17:857, method 3.
/// </remarks>
public static class Wilson
{
    /// <summary>The standard normal quantile of 0.975: a 95% two-sided interval.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>The interval for <paramref name="successes"/> out of <paramref name="n"/> trials; null when n is 0.</summary>
    public static Interval? Interval(int successes, int n, double z = Z95)
    {
        if (n < 0 || successes < 0 || successes > n)
            throw new ArgumentException($"Wilson: {successes} successes out of {n} trials is not a proportion");
        if (n == 0) return null;
        double p = (double)successes / n, z2 = z * z;
        double denominator = 1 + z2 / n;
        double centre = (p + z2 / (2 * n)) / denominator;
        double half = z / denominator * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return new Interval(Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}
