using GanForge.Data.Formats;

namespace GanForge.Data.Tests;

public class GifTests
{
    /// <summary>A small GIF reader written for the test: walks the blocks, decodes each frame's LZW into indices.</summary>
    sealed class ParsedGif
    {
        public int Width, Height, LoopCount = -1;
        public byte[] Palette = [];
        public List<byte[]> Frames = [];
        public List<int> Delays = [];
    }

    static ParsedGif Parse(byte[] b)
    {
        var g = new ParsedGif();
        Assert.Equal("GIF89a", System.Text.Encoding.ASCII.GetString(b, 0, 6));
        g.Width = b[6] | b[7] << 8; g.Height = b[8] | b[9] << 8;
        Assert.Equal(0x80, b[10] & 0x80); // global colour table present
        int tableSize = 3 << ((b[10] & 7) + 1);
        g.Palette = b[13..(13 + tableSize)];
        int p = 13 + tableSize;
        while (true)
        {
            byte kind = b[p++];
            if (kind == 0x3B) break;
            if (kind == 0x21)
            {
                byte label = b[p++];
                var data = ReadSubBlocks(b, ref p);
                if (label == 0xFF && System.Text.Encoding.ASCII.GetString(data, 0, 11) == "NETSCAPE2.0") g.LoopCount = data[12] | data[13] << 8;
                if (label == 0xF9) g.Delays.Add(data[1] | data[2] << 8);
                continue;
            }
            Assert.Equal(0x2C, kind);
            int w = b[p + 4] | b[p + 5] << 8, h = b[p + 6] | b[p + 7] << 8;
            Assert.Equal(0, b[p + 8] & 0x80); // no local table
            p += 9;
            int minCode = b[p++];
            g.Frames.Add(LzwDecode(ReadSubBlocks(b, ref p), minCode, w * h));
        }
        Assert.Equal(b.Length, p);
        return g;
    }

    static byte[] ReadSubBlocks(byte[] b, ref int p)
    {
        var ms = new MemoryStream();
        while (b[p] != 0) { ms.Write(b, p + 1, b[p]); p += b[p] + 1; }
        p++;
        return ms.ToArray();
    }

    static byte[] LzwDecode(byte[] data, int minCode, int pixels)
    {
        int clear = 1 << minCode, end = clear + 1;
        var table = new List<byte[]>();
        void Reset() { table.Clear(); for (int i = 0; i < clear; i++) table.Add([(byte)i]); table.Add([]); table.Add([]); }
        Reset();
        int codeSize = minCode + 1, bitPos = 0;
        byte[]? prev = null;
        var output = new List<byte>();
        while (true)
        {
            int code = 0;
            for (int i = 0; i < codeSize; i++, bitPos++)
                code |= ((data[bitPos >> 3] >> (bitPos & 7)) & 1) << i;
            if (code == clear) { Reset(); codeSize = minCode + 1; prev = null; continue; }
            if (code == end) break;
            byte[] entry;
            if (prev == null) entry = table[code];
            else
            {
                entry = code < table.Count ? table[code] : [.. prev, prev[0]];
                if (table.Count < 4096) table.Add([.. prev, entry[0]]);
            }
            output.AddRange(entry);
            prev = entry;
            if (table.Count == 1 << codeSize && codeSize < 12) codeSize++;
        }
        Assert.Equal(pixels, output.Count);
        return [.. output];
    }

    [Fact]
    public void Encode_GrayFrames_DecodeToSamePixelsAndLoopForever()
    {
        var frames = new List<ByteImage>();
        var g = new Generator(3);
        for (int f = 0; f < 3; f++)
        {
            // Noise makes the LZW table fill past 4096 codes, so clear codes and every code width are exercised.
            var px = new byte[70 * 90];
            for (int i = 0; i < px.Length; i++) px[i] = (byte)(f == 0 ? g.NextInt(256) : (i + f * 40) % 256);
            frames.Add(new ByteImage(90, 70, 1, px));
        }
        var gif = Parse(GifEncoder.Encode(frames, delayMs: 80));
        Assert.Equal((90, 70), (gif.Width, gif.Height));
        Assert.Equal(0, gif.LoopCount);
        Assert.Equal(3, gif.Frames.Count);
        Assert.Equal([8, 8, 8], gif.Delays);
        for (int f = 0; f < 3; f++)
            for (int i = 0; i < gif.Frames[f].Length; i++)
                Assert.Equal(frames[f].Pixels[i], gif.Palette[3 * gif.Frames[f][i]]); // gray palette: index = value
    }

    [Fact]
    public void Encode_RgbFrames_QuantiseToNearestCubeColour()
    {
        var px = new byte[] { 255, 0, 0, 0, 255, 0, 0, 0, 255, 130, 130, 130 };
        var gif = Parse(GifEncoder.Encode([new ByteImage(2, 2, 3, px), new ByteImage(2, 2, 3, px)]));
        Assert.Equal(2, gif.Frames.Count);
        for (int i = 0; i < 4; i++)
        {
            int k = gif.Frames[0][i];
            for (int ch = 0; ch < 3; ch++)
                Assert.InRange(Math.Abs(gif.Palette[3 * k + ch] - px[3 * i + ch]), 0, 26); // half the widest 6-level step
        }
    }

    [Fact]
    public void Encode_FramesOfDifferentSize_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => GifEncoder.Encode([new ByteImage(2, 2, 1), new ByteImage(3, 2, 1)]));
        Assert.Contains("frame 1 is 3x2", e.Message);
    }
}
