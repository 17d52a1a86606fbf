using GanForge.Serialization;

namespace GanForge.Tests;

public class SafeTensorsTests
{
    [Fact]
    public void SaveThenLoad_RoundTripsValuesAndShapes()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gf-{Guid.NewGuid():N}.safetensors");
        var a = Tensor.Randn([2, 3], new Generator(1));
        SafeTensors.Save(path, [new("a", a), new("n", Tensor.Scalar(7))], int64Names: new HashSet<string> { "n" });
        var back = SafeTensors.Load(path);
        Assert.Equal(a.ToArray(), back["a"].ToArray());
        Assert.Equal([2, 3], back["a"].Shape);
        Assert.Equal(7f, back["n"].Item());
        File.Delete(path);
    }

    [Fact]
    public void Load_TruncatedFile_NamesFileAndTensor()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gf-{Guid.NewGuid():N}.safetensors");
        SafeTensors.Save(path, [new("weight", Tensor.Ones(4, 4))]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("'weight'", e.Message);
        File.Delete(path);
    }
}
