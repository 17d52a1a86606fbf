using GanForge.Data;
using GanForge.Data.Formats;

namespace GanForge.Metrics.Evaluation;

/// <summary>Reads image sets to evaluate and names real data sets.</summary>
public static class ImageSets
{
    /// <summary>
    /// Images (N,C,H,W) in [-1, 1] from an IDX images file (as `ganforge sample --out x.idx` writes) or a
    /// folder of PNG files (classes from subfolders are ignored).
    /// </summary>
    public static Tensor Load(string path)
    {
        if (File.Exists(path))
        {
            var idx = Idx.ReadImages(path);
            var data = new TensorDataset(idx.Data, new int[idx.Count], 1, idx.Dims[1], idx.Dims[2], null, path);
            return EvaluationSuite.Images(data, Enumerable.Range(0, data.Count).ToArray());
        }
        if (Directory.Exists(path))
        {
            var folder = new ImageFolderDataset(path);
            var t = new Tensor(folder.Count, folder.Channels, folder.Height, folder.Width);
            int per = t.Numel / Math.Max(folder.Count, 1);
            for (int i = 0; i < folder.Count; i++)
            {
                var d = t.Data.Slice(i * per, per);
                folder.Get(i).Image.Data.CopyTo(d);
                for (int j = 0; j < d.Length; j++) d[j] = d[j] * 2f - 1f;
            }
            return t;
        }
        throw new FileNotFoundException($"eval --images: '{path}' is neither an IDX images file nor a folder of PNG files", path);
    }

    /// <summary>
    /// Real data by name: "fashion-mnist" (the system files, else the embedded test split without a train split)
    /// or a folder holding Fashion-MNIST-format IDX files (t10k-* and train-*).
    /// </summary>
    public static RealData Real(string name)
    {
        if (name.ToLowerInvariant() is "fashion-mnist" or "embedded" or "fashion-mnist-embedded") return RealData.FashionMnist();
        if (Directory.Exists(name))
        {
            var test = FashionMnist.Load(Split.Test, name);
            TensorDataset? train = null;
            try { train = FashionMnist.Load(Split.Train, name); }
            catch (FileNotFoundException) { }
            return new RealData(Path.GetFileName(Path.TrimEndingDirectorySeparator(name)), test, train);
        }
        throw new ArgumentException($"eval --data: unknown data '{name}'; give fashion-mnist or a folder of IDX files (t10k-images-idx3-ubyte, ...)");
    }
}
