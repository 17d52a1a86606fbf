using GanForge.Data.Formats;

namespace GanForge.Data;

/// <summary>
/// Image files to planar bytes as <see cref="DataOptions"/> say (channels, centre crop and resize, unreadable files),
/// shared by <see cref="ImageFolderDataset"/> and the paired folders (<see cref="ImagePairs"/>), so every image a data
/// spec names is read one way.
/// </summary>
static class ImageDecoding
{
    /// <summary>One decoded image (or one half of one), planar (C,H,W) with the channels kept; <see cref="Gray"/> when it had no colour.</summary>
    internal sealed record Decoded(byte[] Pixels, int Height, int Width, bool Gray);

    internal static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');

    /// <summary>Image files under <paramref name="dir"/>, by ordinal path; hidden files and folders are left out.</summary>
    internal static IEnumerable<string> ImageFiles(string dir, bool recurse)
    {
        var found = Directory.GetFiles(dir).Where(f => !IsHidden(f) && ImageFile.HasImageExtension(f));
        if (recurse)
            found = found.Concat(Directory.GetDirectories(dir).Where(d => !IsHidden(d)).SelectMany(d => ImageFiles(d, true)));
        return found.Order(StringComparer.Ordinal);
    }

    /// <summary>
    /// Decodes <paramref name="files"/> in parallel into <paramref name="parts"/> pieces each: 1 the whole image, 2 its
    /// left and right halves (side-by-side A|B images; an odd width makes the file unreadable). Each piece is converted
    /// to the channels kept (<see cref="DataOptions.Channels"/>, or 3 until the set is known to be gray) and, with an
    /// image size, centre-cropped and resized on its own. Without <see cref="DataOptions.SkipBad"/> the first unreadable
    /// file (in the files' order, whichever thread met it) is thrown; with it, <paramref name="errors"/> holds each one's message.
    /// </summary>
    internal static Decoded[]?[] Decode(IReadOnlyList<string> files, DataOptions options, int parts, out string?[] errors)
    {
        var images = new Decoded[]?[files.Count];
        var messages = new string?[files.Count];
        int keep = options.Channels != 0 ? options.Channels : 3, size = options.ImageSize;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Threading.Threads) };
        Parallel.For(0, files.Count, parallel, (i, loop) =>
        {
            // After a failure, later files need not be read; Break still runs every earlier one, so the first failure is found.
            if (loop.LowestBreakIteration is { } stop && i > stop) return;
            try
            {
                var image = ImageFile.Load(files[i]).ToChannels(keep);
                if (image.Width % parts != 0)
                    throw new InvalidDataException($"{files[i]}: a side-by-side A|B image must have an even width to split in two halves, but it is {image.Width}x{image.Height}");
                var planar = new byte[keep * image.Height * image.Width];
                image.ToPlanarBytes(planar);
                var pieces = new Decoded[parts];
                for (int p = 0; p < parts; p++)
                {
                    var piece = parts == 1 ? planar : Columns(planar, keep, image.Height, image.Width, p * image.Width / parts, image.Width / parts);
                    int h = image.Height, w = image.Width / parts;
                    bool gray = keep == 1 || PlanesEqual(piece, h * w);
                    if (size > 0)
                    {
                        var resized = new byte[keep * size * size];
                        ImageResize.CropResize(piece, keep, h, w, size, resized);
                        pieces[p] = new Decoded(resized, size, size, gray);
                    }
                    else pieces[p] = new Decoded(piece, h, w, gray);
                }
                images[i] = pieces;
            }
            catch (InvalidDataException e)
            {
                messages[i] = e.Message;
                if (!options.SkipBad) loop.Break();
            }
        });
        errors = messages;
        if (!options.SkipBad && Array.FindIndex(messages, m => m != null) is var bad and >= 0)
            throw new InvalidDataException(messages[bad] + " (skip unreadable files with --skip-bad)");
        return images;
    }

    // planar: (C,H,W) -> (C,H,width), the columns from x0
    static byte[] Columns(byte[] planar, int c, int h, int w, int x0, int width)
    {
        var piece = new byte[c * h * width];
        for (int row = 0; row < c * h; row++)
            planar.AsSpan(row * w + x0, width).CopyTo(piece.AsSpan(row * width, width));
        return piece;
    }

    /// <summary>True for 3 equal planes (an RGB image with no colour; gray files were repeated into 3 planes).</summary>
    static bool PlanesEqual(byte[] planar, int plane)
    {
        var r = planar.AsSpan(0, plane);
        return r.SequenceEqual(planar.AsSpan(plane, plane)) && r.SequenceEqual(planar.AsSpan(2 * plane, plane));
    }

    /// <summary>
    /// The decoded images as one dataset: <see cref="DataOptions.Channels"/>, else 1 when every image is gray and 3
    /// otherwise. Without an image size every image keeps its own, so they must all have the first one's.
    /// </summary>
    /// <param name="images">The images, in sample order.</param>
    /// <param name="names">What to call each image in an error (its file).</param>
    /// <param name="labels">One label per image.</param>
    /// <param name="options">The options they were decoded with.</param>
    /// <param name="source">Where they came from, for logs.</param>
    internal static TensorDataset Stack(IReadOnlyList<Decoded> images, IReadOnlyList<string> names, int[] labels, DataOptions options, string source)
    {
        var first = images[0];
        int height = first.Height, width = first.Width;
        for (int i = 1; i < images.Count; i++)
            if (images[i].Height != height || images[i].Width != width)
                throw new InvalidDataException($"{names[i]} is {images[i].Width}x{images[i].Height} but {names[0]} is {width}x{height}; " +
                                               "give an image size (train --image-size N) to centre-crop and resize every image to N x N");
        int channels = options.Channels != 0 ? options.Channels : images.All(d => d.Gray) ? 1 : 3;
        int per = channels * height * width;
        var pixels = new byte[(long)images.Count * per <= Array.MaxLength ? images.Count * per
            : throw new InvalidOperationException($"{source}: {images.Count} images of {channels}x{height}x{width} do not fit in memory as one array")];
        // Images were kept with 3 channels when the count was not yet known; a gray set keeps the first plane (R = G = B).
        for (int k = 0; k < images.Count; k++) images[k].Pixels.AsSpan(0, per).CopyTo(pixels.AsSpan(k * per, per));
        return new TensorDataset(pixels, labels, channels, height, width, null, source);
    }
}
