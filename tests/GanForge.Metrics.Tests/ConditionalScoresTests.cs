namespace GanForge.Metrics.Tests;

public class ConditionalScoresTests
{
    static FeatureMatrix OneHotProbabilities(int[] predicted, int classes)
    {
        var data = new double[predicted.Length * classes];
        for (int i = 0; i < predicted.Length; i++) data[i * classes + predicted[i]] = 1;
        return new FeatureMatrix(data, predicted.Length, classes);
    }

    [Fact]
    public void ClassAccuracy_KnownPredictions_MeanOfPerClassShares()
    {
        // class 0: 2 of 2 right; class 1: 1 of 4 right -> per class 1.0 and 0.25, mean 0.625 (not the pooled 3/6)
        int[] intended = [0, 0, 1, 1, 1, 1];
        var result = ConditionalScores.ClassAccuracy(OneHotProbabilities([0, 0, 1, 2, 2, 0], 3), intended);
        Assert.Equal(0.625, result.Value, 1e-12);
        Assert.Equal(1.0, result.Extras["acc_0"], 1e-12);
        Assert.Equal(0.25, result.Extras["acc_1"], 1e-12);
        Assert.False(result.Extras.ContainsKey("acc_2"));   // no sample was made for class 2
    }

    [Fact]
    public void CodeAgreement_PermutedLabels_NmiAndPurityOne()
    {
        int[] codes = [0, 0, 1, 1, 2, 2, 3, 3];
        int[] predicted = [2, 2, 0, 0, 3, 3, 1, 1];
        var result = ConditionalScores.CodeAgreement(codes, predicted);
        Assert.Equal(1.0, result.Value, 1e-9);
        Assert.Equal(1.0, result.Extras["purity"], 1e-9);
    }

    [Fact]
    public void CodeAgreement_IndependentLabels_NmiZero()
    {
        // every code value meets every class equally often: I(U; V) = 0
        int[] codes = [0, 0, 1, 1];
        int[] predicted = [0, 1, 0, 1];
        var result = ConditionalScores.CodeAgreement(codes, predicted);
        Assert.InRange(result.Value, 0, 1e-12);
        Assert.Equal(0.5, result.Extras["purity"], 1e-12);
    }

    [Fact]
    public void CodeAgreement_KnownTable_MatchesHandComputedNmi()
    {
        // joint counts [[2,1],[0,1]] over 4: I = 0.5 ln(4/3) + 0.25 ln(2/3) + 0.25 ln 2 = 0.2158; H(U) = 0.5623, H(V) = 0.6931
        int[] codes = [0, 0, 0, 1];
        int[] predicted = [0, 0, 1, 1];
        var result = ConditionalScores.CodeAgreement(codes, predicted);
        double i = 0.5 * Math.Log(4.0 / 3) + 0.25 * Math.Log(2.0 / 3) + 0.25 * Math.Log(2);
        double hu = -(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25)), hv = Math.Log(2);
        Assert.Equal(i / ((hu + hv) / 2), result.Value, 1e-9);
        Assert.Equal(0.75, result.Extras["purity"], 1e-12);
    }
}
