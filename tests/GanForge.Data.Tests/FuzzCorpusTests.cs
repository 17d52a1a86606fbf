using GanForge.Data;
using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

/// <summary>The fuzz harness's regression corpus for the data readers: each file loads, or is refused with one clean line.</summary>
public class FuzzCorpusTests
{
    // One line per reader, as in tools/fuzz/GanForge.Fuzz/Targets.cs.
    static readonly Dictionary<string, Action<string>> Readers = new()
    {
        ["idx"] = p => Idx.Read(p),
        ["idx-gz"] = p => Idx.Read(p),
        ["png"] = p => ImageFile.Load(p),
        ["npy"] = p => Npy.Load(p),
        ["cifar"] = p => Cifar10.LoadFiles([p]),
    };

    public static TheoryData<string, string> Corpus => FuzzCorpus.Files([.. Readers.Keys]);

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Read_FuzzCorpusFile_LoadsOrFailsWithOneCleanLine(string reader, string file) => FuzzCorpus.Check(file, Readers[reader]);
}
