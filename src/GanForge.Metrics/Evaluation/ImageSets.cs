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
    /// Real data named by a data spec, as train takes it (<see cref="DataSpec"/>): the reference is the test split where
    /// the data has splits (embedded has only that one), else all of it; the train split, where there is one, is the
    /// floor's and memorisation's. "fashion-mnist" uses the system test split, else its embedded copy.
    /// </summary>
    public static RealData Real(string spec)
    {
        var reference = DataSpec.Resolve(spec, "test");
        TensorDataset? train = null;
        if (reference.Split == "test")
        {
            try
            {
                var t = DataSpec.Resolve(spec, "train");
                if (t.Split == "train") train = t.Dataset.ToTensorDataset($"{spec} train");
            }
            catch (FileNotFoundException) { } // only the test split is at hand: no floor, no memorisation
        }
        return new RealData(spec, reference.Dataset.ToTensorDataset($"{spec} {reference.Split}"), train, reference.Split);
    }
}
