using GanForge.Metrics;

namespace GanForge.Metrics.Tests;

public class FeatureMatrixTests
{
    [Fact]
    public void FeatureMatrix_FromTensorAndFloatArray_AgreeRowMajor()
    {
        var t = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var a = FeatureMatrix.From(t);
        var b = FeatureMatrix.From(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal((2, 3), (a.Rows, a.Cols));
        Assert.Equal(a.Data, b.Data);
        Assert.Equal(6.0, a[1, 2]);
    }

    [Fact]
    public void FeatureMatrix_FromImageTensor_FlattensPerSample()
    {
        var images = new Tensor(4, 1, 3, 3);
        var m = FeatureMatrix.From(images);
        Assert.Equal((4, 9), (m.Rows, m.Cols));
    }

    [Fact]
    public void FeatureMatrix_WrongLength_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new FeatureMatrix(new double[5], 2, 3));
        Assert.Contains("(2,3)", e.Message);
    }
}
