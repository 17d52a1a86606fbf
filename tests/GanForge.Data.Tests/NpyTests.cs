using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

public class NpyTests
{
    [Theory]
    [InlineData(new int[] { 5 })]
    [InlineData(new int[] { 2, 3, 4 })]
    [InlineData(new int[] { })]
    public void SaveLoad_Shapes_RoundTrip(int[] shape)
    {
        using var dir = new TempDir();
        var t = Tensor.Randn(shape, new Generator(1));
        Npy.Save(dir.File("z.npy"), t);
        var back = Npy.Load(dir.File("z.npy"));
        Assert.Equal(t.Shape, back.Shape);
        Assert.Equal(t.ToArray(), back.ToArray());
        Assert.Equal(0, (File.ReadAllBytes(dir.File("z.npy")).Length - t.Numel * 4) % 64); // header aligned to 64
    }

    [Fact]
    public void Load_NumpyWrittenFile_MatchesValues()
    {
        var t = Npy.Load(Path.Combine(Fixtures.Root, "data", "numpy_f4.npy"));
        Assert.Equal([2, 3, 4], t.Shape);
        for (int i = 0; i < 24; i++) Assert.Equal((i - 7.5f) / 3f, t.Data[i]);
    }

    [Fact]
    public void Encode_Header_IsNumpyDictionary()
    {
        var bytes = Npy.Encode(new Tensor(4, 2));
        var header = System.Text.Encoding.ASCII.GetString(bytes, 10, bytes[8] | bytes[9] << 8);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }", header);
        Assert.EndsWith("\n", header);
    }

    [Fact]
    public void Decode_Float64_ThrowsNamingDtype()
    {
        var bytes = Npy.Encode(new Tensor(2));
        var text = System.Text.Encoding.ASCII.GetBytes("<f8");
        int at = System.Text.Encoding.ASCII.GetString(bytes).IndexOf("<f4", StringComparison.Ordinal);
        text.CopyTo(bytes, at);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Decode(bytes, "z.npy"));
        Assert.Contains("dtype '<f8' is not supported", e.Message);
    }

    [Fact]
    public void Decode_Truncated_ThrowsWithSizes()
    {
        var bytes = Npy.Encode(new Tensor(3, 3));
        var e = Assert.Throws<InvalidDataException>(() => Npy.Decode(bytes.AsSpan(0, bytes.Length - 4), "z.npy"));
        Assert.Equal("z.npy: shape (3,3) needs 36 bytes of float32 data but the file holds 32", e.Message);
    }
}
