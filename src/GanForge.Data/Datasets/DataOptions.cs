using GanForge.Data.Formats;

namespace GanForge.Data;

/// <summary>
/// How data is prepared once read, the same for every source a data spec names (<see cref="DataSpec"/>): channels,
/// image size, and what to do with image files that cannot be read.
/// </summary>
public sealed record DataOptions
{
    /// <summary>The default: the data's own channels and size; an unreadable image file is an error.</summary>
    public static DataOptions Default { get; } = new();

    /// <summary>
    /// 1 (gray) or 3 (RGB); 0 keeps the data's own (an image folder: 3 when any image has colour, else 1). Gray to RGB
    /// repeats the gray value; RGB to gray is ITU-R 601 luma; alpha is dropped.
    /// </summary>
    public int Channels { get; init; }

    /// <summary>
    /// Side of the square images to make: each image is centre-cropped to a square and resized with an antialiased
    /// bilinear filter (<see cref="ImageResize"/>). 0 keeps the data's size; the images of a folder must then share one.
    /// </summary>
    public int ImageSize { get; init; }

    /// <summary>Skip image files that cannot be read (and count them) instead of stopping at the first one.</summary>
    public bool SkipBad { get; init; }

    /// <summary>Throws an ArgumentException naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Channels is not (0 or 1 or 3)) throw new ArgumentException($"Data: channels must be 1 (gray) or 3 (RGB), got {Channels}");
        if (ImageSize < 0) throw new ArgumentException($"Data: image size must be positive (or 0 for the data's own), got {ImageSize}");
        if (ImageSize > ImageFile.MaxSide) throw new ArgumentException($"Data: image size {ImageSize} is larger than {ImageFile.MaxSide}");
    }
}
