using GanForge.Data;
using GanForge.Data.Formats;

namespace GanForge.Gan;

/// <summary>Writes generated images in the format the path asks for, and reads latent files.</summary>
public static class Outputs
{
    /// <summary>
    /// Writes images (N,C,H,W) in [-1,1]: <c>.idx</c>/<c>-ubyte</c> as IDX ubyte (grayscale), <c>.png</c> as one grid,
    /// <c>.npy</c> as raw float32, anything else as a folder of PNGs (000000.png, ...). Returns the path written.
    /// </summary>
    public static string WriteImages(Tensor images, string path)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".idx" || path.EndsWith("-ubyte", StringComparison.Ordinal) || path.EndsWith("-ubyte.gz", StringComparison.Ordinal))
            Idx.WriteImages(path, images, -1f, 1f, gzip: ext == ".gz");
        else if (ext == ".png") ImageGrid.Save(path, images, new ImageGridOptions { NRow = (int)Math.Ceiling(Math.Sqrt(images.Size(0))) });
        else if (ext == ".npy") Npy.Save(path, images);
        else if (ext.Length > 0 && !Directory.Exists(path))
            throw new ArgumentException($"--out '{path}': unknown format '{ext}' (use .idx, .png, .npy, or a folder)");
        else
        {
            Directory.CreateDirectory(path);
            int n = images.Size(0), per = images.Numel / Math.Max(n, 1);
            for (int i = 0; i < n; i++)
            {
                var one = Tensor.FromArray(images.Data.Slice(i * per, per), images.Shape[1..]);
                PngEncoder.Save(Path.Combine(path, $"{i:D6}.png"), ByteImage.FromTensor(one, -1f, 1f));
            }
        }
        return path;
    }

    /// <summary>Class labels (N) stored as floats, written as an IDX ubyte labels file (as the datasets ship theirs).</summary>
    public static void WriteLabels(Tensor classes, string path)
    {
        var bytes = new byte[classes.Numel];
        for (int i = 0; i < bytes.Length; i++)
        {
            float c = classes.Data[i];
            if (!(c >= 0 && c <= 255)) throw new ArgumentException($"--labels-out '{path}': class {c} does not fit an IDX ubyte label");
            bytes[i] = (byte)c;
        }
        Idx.WriteLabels(path, bytes, gzip: path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Images (N,C,H,W) in [-1,1] as one PNG grid of <paramref name="columns"/> images per row.</summary>
    public static void WriteGrid(Tensor images, string path, int columns)
    {
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--out '{path}': a grid is written as .png");
        ImageGrid.Save(path, images, new ImageGridOptions { NRow = columns });
    }

    /// <summary>Frames (N,C,H,W) as one row (.png) or an animated GIF (.gif).</summary>
    public static void WriteStrip(Tensor frames, string path)
    {
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".gif":
                int n = frames.Size(0), per = frames.Numel / n;
                var list = Enumerable.Range(0, n).Select(i => Tensor.FromArray(frames.Data.Slice(i * per, per), frames.Shape[1..])).ToList();
                GifEncoder.Save(path, list, delayMs: 100, lo: -1f, hi: 1f);
                break;
            case ".png":
                ImageGrid.Save(path, frames, new ImageGridOptions { NRow = frames.Size(0) });
                break;
            default:
                throw new ArgumentException($"--out '{path}': use .png (a strip) or .gif (an animation)");
        }
    }

    /// <summary>Reads latent vectors (n, nz) from a .npy file: at least one row, every value finite.</summary>
    public static Tensor ReadLatents(string path) => ReadLatents(path, allowStyles: false);

    /// <summary>
    /// Reads latents from a .npy file: z as (n, nz) or, when <paramref name="allowStyles"/>, per-layer styles
    /// (n, layers, w_dim) as `project` writes them; at least one row, every value finite.
    /// </summary>
    public static Tensor ReadLatents(string path, bool allowStyles)
    {
        var z = Npy.Load(path);
        if (z.Rank != 2 && !(allowStyles && z.Rank == 3))
            throw new InvalidDataException($"{path}: latents must be a 2-D array (n, nz){(allowStyles ? " or styles (n, layers, w_dim)" : "")}, got {(z.Rank <= 8 ? Shapes.Format(z.ShapeSpan) : $"{z.Rank} dimensions")}");
        if (z.Rank == 3)
        {
            if (z.Numel == 0) throw new InvalidDataException($"{path}: styles {Shapes.Format(z.ShapeSpan)} hold no values");
            foreach (float v in z.Data)
                if (!float.IsFinite(v)) throw new InvalidDataException($"{path}: styles hold {v}; they must be finite numbers");
            return z;
        }
        if (z.Size(0) == 0 || z.Size(1) == 0)
            throw new InvalidDataException($"{path}: latents {Shapes.Format(z.ShapeSpan)} hold no vectors; give at least one row (n, nz)");
        var values = z.Data;
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new InvalidDataException($"{path}: latent {i / z.Size(1)}, element {i % z.Size(1)} is {values[i]}; latents must be finite numbers");
        return z;
    }

    /// <summary>
    /// Reads one image file (PNG, JPEG, BMP, GIF) as (1, <paramref name="channels"/>, size, size) in [-1, 1]: converted to
    /// the channels, centre-cropped and resized as the data loader does.
    /// </summary>
    public static Tensor ReadImage(string path, int channels, int size)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--image '{path}': no such file", path);
        var image = ImageFile.Load(path).ToChannels(channels);
        var planar = new byte[channels * image.Height * image.Width];
        image.ToPlanarBytes(planar);
        var resized = new byte[channels * size * size];
        ImageResize.CropResize(planar, channels, image.Height, image.Width, size, resized);
        var x = new Tensor(1, channels, size, size);
        PixelConvert.ToFloats(resized, x.Data);
        return x * 2f - 1f;
    }
}
