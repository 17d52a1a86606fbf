using GanForge.Native;
using GanForge.Serialization;

namespace GanForge.Tests;

public class AtomicFileTests
{
    [Fact]
    public void Write_ExistingFile_ReplacedWholeWithNoTemporaryFileLeft()
    {
        var dir = Directory.CreateTempSubdirectory("ganforge-atomic-").FullName;
        try
        {
            var path = Path.Combine(dir, "a.bin");
            File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
            AtomicFile.WriteAllBytes(path, [9, 8]);
            Assert.Equal([9, 8], File.ReadAllBytes(path));
            Assert.Equal(["a.bin"], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Write_WriterThrows_OldFileKeptAndTemporaryFileRemoved()
    {
        var dir = Directory.CreateTempSubdirectory("ganforge-atomic-").FullName;
        try
        {
            var path = Path.Combine(dir, "a.txt");
            File.WriteAllText(path, "old");
            Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s => { s.WriteByte(1); throw new InvalidOperationException("boom"); }));
            Assert.Equal("old", File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void FsyncDirectory_Folder_SucceedsOffWindows()
    {
        var dir = Directory.CreateTempSubdirectory("ganforge-atomic-").FullName;
        try { Assert.Equal(!OperatingSystem.IsWindows(), NativeMethods.FsyncDirectory(dir)); }
        finally { Directory.Delete(dir); }
    }

    [Fact]
    public void FsyncDirectory_MissingFolder_ReturnsFalse()
    {
        Assert.False(NativeMethods.FsyncDirectory(Path.Combine(Path.GetTempPath(), "ganforge-no-such-" + Guid.NewGuid().ToString("N"))));
    }
}
