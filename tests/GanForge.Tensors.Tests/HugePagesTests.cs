using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GanForge.Tests;

public class HugePagesTests
{
    /// <summary>
    /// A fresh buffer of several 2 MB blocks is advised: the kernel marks the advised range for huge pages (the "hg" flag
    /// of its mapping in /proc/self/smaps). Whether it then backs the range with a huge page depends on the free 2 MB
    /// blocks it has at hand: on this project's virtual machine it gave them in one session and none in the next
    /// (AnonHugePages 0 kB over the whole system), so that is not asserted.
    /// </summary>
    [Fact]
    public unsafe void Advise_AFreshBufferOfSeveralBlocks_MarksItsWholeBlocksForHugePages()
    {
        var buffer = GC.AllocateUninitializedArray<float>(3 * HugePages.Bytes / sizeof(float) + 1000);
        bool advised = HugePages.Advise(buffer);
        Assert.Equal(OperatingSystem.IsLinux() && HugePages.Enabled, advised);
        buffer.AsSpan().Fill(1.5f);
        Assert.All(buffer, v => Assert.Equal(1.5f, v));
        if (!advised || ThpMode() is not ("madvise" or "always")) return;
        nuint start = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        nuint first = (start + HugePages.Bytes - 1) & ~(nuint)(HugePages.Bytes - 1);
        var flags = MappingField(first, "VmFlags:");
        Assert.True(flags != null && flags.Split(' ').Contains("hg"), $"the mapping from 0x{first:x} is not marked for huge pages (VmFlags: {flags})");
    }

    [Fact]
    public void Advise_NoWholeBlockOrTurnedOff_AsksNothing()
    {
        Assert.False(HugePages.Advise(new float[HugePages.Bytes / sizeof(float) - 1]));
        bool was = HugePages.Enabled;
        try
        {
            HugePages.Enabled = false;
            Assert.False(HugePages.Advise(GC.AllocateUninitializedArray<float>(2 * HugePages.Bytes / sizeof(float))));
        }
        finally { HugePages.Enabled = was; }
    }

    // The bracketed mode of /sys/kernel/mm/transparent_hugepage/enabled ("always [madvise] never"), or null.
    static string? ThpMode()
    {
        const string file = "/sys/kernel/mm/transparent_hugepage/enabled";
        if (!File.Exists(file)) return null;
        var text = File.ReadAllText(file);
        int open = text.IndexOf('['), close = text.IndexOf(']');
        return open >= 0 && close > open ? text[(open + 1)..close] : null;
    }

    // A field of the mapping of /proc/self/smaps that holds the address (its text after the name), or null.
    static string? MappingField(nuint address, string name)
    {
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-'), space = line.IndexOf(' ');
            if (dash > 0 && space > dash && ulong.TryParse(line[..dash], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var from)
                && ulong.TryParse(line[(dash + 1)..space], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var to))
                inside = from <= address && address < to;
            else if (inside && line.StartsWith(name, StringComparison.Ordinal))
                return line[name.Length..].Trim();
        }
        return null;
    }
}
