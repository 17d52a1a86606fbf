namespace GanForge.Kernels;

/// <summary>Scratch put on 64-byte cache lines: a 512-bit load or store from an aligned start never straddles two lines.</summary>
internal static unsafe class CacheLines
{
    /// <summary>The first 64-byte boundary at or after <paramref name="p"/> (the buffer holds 16 floats more than it uses).</summary>
    public static float* Aligned(float* p) => (float*)(((nuint)p + 63) & ~(nuint)63);
}
