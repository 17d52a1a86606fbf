namespace GanForge.Data;

/// <summary>
/// An in-memory dataset of equally sized images kept as bytes (C,H,W) — a quarter of the memory of
/// floats — and converted to [0, 1] floats when a sample is read.
/// </summary>
public sealed class TensorDataset : IDataset
{
    readonly byte[] _pixels;
    readonly int[] _labels;

    /// <param name="pixels">Count × C × H × W bytes, planar per image.</param>
    /// <param name="labels">One label per image.</param>
    /// <param name="channels">C.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="classes">Class names indexed by label, or null.</param>
    /// <param name="source">Where the data came from, for logs.</param>
    public TensorDataset(byte[] pixels, int[] labels, int channels, int height, int width,
        IReadOnlyList<string>? classes = null, string source = "memory")
    {
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"TensorDataset: image shape ({channels},{height},{width}) must be positive");
        long per = (long)channels * height * width;
        if (pixels.Length != per * labels.Length)
            throw new ArgumentException($"TensorDataset: {pixels.Length} bytes do not hold {labels.Length} images of ({channels},{height},{width})");
        if (classes != null)
            for (int i = 0; i < labels.Length; i++)
                if ((uint)labels[i] >= (uint)classes.Count)
                    throw new ArgumentException($"TensorDataset ({source}): label {labels[i]} of sample {i} is outside the {classes.Count} classes");
        _pixels = pixels; _labels = labels;
        Channels = channels; Height = height; Width = width;
        Classes = classes ?? [];
        Source = source;
    }

    public int Count => _labels.Length;
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Where the data came from (a folder, a file, "embedded"), for logs.</summary>
    public string Source { get; }

    int ImageSize => Channels * Height * Width;

    public (Tensor Image, int Label) Get(int index)
    {
        var t = new Tensor(Channels, Height, Width);
        PixelConvert.ToFloats(ImageBytes(index), t.Data);
        return (t, _labels[index]);
    }

    /// <summary>The raw bytes (C,H,W) of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> ImageBytes(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"TensorDataset: index {index} out of range for {Count} samples");
        return _pixels.AsSpan(index * ImageSize, ImageSize);
    }

    /// <summary>The label of sample <paramref name="index"/>.</summary>
    public int Label(int index) => _labels[index];

    /// <summary>The first <paramref name="count"/> samples (for quick runs and tests); shares nothing mutable.</summary>
    public TensorDataset Take(int count)
    {
        count = Math.Clamp(count, 0, Count);
        return new TensorDataset(_pixels.AsSpan(0, count * ImageSize).ToArray(), _labels[..count], Channels, Height, Width,
            Classes.Count > 0 ? Classes : null, Source);
    }

    /// <summary>The samples at <paramref name="rows"/>, in that order, copied; labels and class names are kept.</summary>
    public TensorDataset Select(IReadOnlyList<int> rows, string? source = null)
    {
        var pixels = new byte[rows.Count * ImageSize];
        var labels = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            ImageBytes(rows[i]).CopyTo(pixels.AsSpan(i * ImageSize, ImageSize));
            labels[i] = _labels[rows[i]];
        }
        return new TensorDataset(pixels, labels, Channels, Height, Width, Classes.Count > 0 ? Classes : null, source ?? Source);
    }

    /// <summary>
    /// These images with <paramref name="channels"/> channels (1 or 3, <see cref="PixelConvert.ConvertChannels"/>) and,
    /// when <paramref name="size"/> is positive, centre-cropped and resized to size x size (<see cref="ImageResize"/>);
    /// this dataset itself when nothing changes. Labels, class names and the source are kept.
    /// </summary>
    public TensorDataset Conform(int channels, int size)
    {
        int outH = size > 0 ? size : Height, outW = size > 0 ? size : Width;
        if (channels == Channels && outH == Height && outW == Width) return this;
        int plane = Height * Width, per = channels * outH * outW;
        var pixels = new byte[(long)Count * per <= Array.MaxLength ? Count * per
            : throw new InvalidOperationException($"TensorDataset.Conform: {Count} images of ({channels},{outH},{outW}) do not fit in one array")];
        // Each image on its own, so the threads' ranges give the bytes one thread would.
        var resize = size > 0 ? new ImageResize.Plan(channels, Height, Width, size) : null;
        Threading.ForRanges(Count, (_, start, end) =>
        {
            var converted = new byte[channels * plane];
            var scratch = new float[resize?.ScratchLength ?? 0];
            for (int i = start; i < end; i++)
            {
                PixelConvert.ConvertChannels(ImageBytes(i), Channels, converted, channels, plane);
                var dst = pixels.AsSpan(i * per, per);
                if (resize != null) resize.Apply(converted, dst, scratch);
                else converted.CopyTo(dst);
            }
        }, minPerChunk: 256);
        return new TensorDataset(pixels, [.. _labels], channels, outH, outW, Classes.Count > 0 ? Classes : null, Source);
    }
}
