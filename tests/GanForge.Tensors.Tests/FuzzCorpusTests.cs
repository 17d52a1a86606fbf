using GanForge.Serialization;

namespace GanForge.Tests;

/// <summary>The fuzz harness's regression corpus for safetensors: each file loads, or is refused with one clean line.</summary>
public class FuzzCorpusTests
{
    public static TheoryData<string, string> Corpus => FuzzCorpus.Files("safetensors");

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Read_FuzzCorpusFile_LoadsOrFailsWithOneCleanLine(string reader, string file)
    {
        Assert.Equal("safetensors", reader);
        FuzzCorpus.Check(file, p => SafeTensors.Read(p));
    }
}
