using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GanForge.Tests;

public class HugePagesTests
{
    [Fact]
    public unsafe void Advise_AFreshBufferOfSeveralBlocks_IsBackedByHugePagesWhereTheSystemGivesThem()
    {
        var buffer = GC.AllocateUninitializedArray<float>(3 * HugePages.Bytes / sizeof(float) + 1000);
        bool advised = HugePages.Advise(buffer);
        Assert.Equal(OperatingSystem.IsLinux() && HugePages.Enabled, advised);
        buffer.AsSpan().Fill(1.5f);
        Assert.All(buffer, v => Assert.Equal(1.5f, v));
        // Where transparent huge pages are on for advised memory, the advised blocks are huge pages once touched: at least
        // one of the three whole blocks (the kernel falls back to small pages when it has no free 2 MB block at hand).
        if (!advised || ThpMode() is not ("madvise" or "always")) return;
        nuint start = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        nuint first = (start + HugePages.Bytes - 1) & ~(nuint)(HugePages.Bytes - 1);
        Assert.True(AnonHugePagesKb(first) >= 2048, $"no huge page behind the advised range from 0x{first:x}");
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

    // AnonHugePages of the mapping of /proc/self/smaps that holds the address, in kB.
    static long AnonHugePagesKb(nuint address)
    {
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-'), space = line.IndexOf(' ');
            if (dash > 0 && space > dash && ulong.TryParse(line[..dash], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var from)
                && ulong.TryParse(line[(dash + 1)..space], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var to))
                inside = from <= address && address < to;
            else if (inside && line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
                return long.Parse(line["AnonHugePages:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return 0;
    }
}
