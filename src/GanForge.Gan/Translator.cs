using GanForge.Data;
using GanForge.Data.Formats;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan;

/// <summary>
/// A trained image-to-image generator loaded from a checkpoint (pix2pix, unet-l1, dagan, srresnet, srgan, cyclegan in either
/// direction): maps images of its input's shape to images of its output's, in batches (`ganforge translate`, `upscale`).
/// </summary>
public sealed class Translator
{
    public GanModel Model { get; }
    /// <summary>The generator used, in eval mode.</summary>
    public Module Network { get; }
    public CheckpointState State { get; }
    /// <summary>The input's shape (C,H,W) the network takes.</summary>
    public int[] InputShape { get; }
    /// <summary>The output's shape (C,H,W).</summary>
    public int[] OutputShape { get; }
    /// <summary>a2b or b2a.</summary>
    public string Direction { get; }

    Translator(GanModel model, Module network, CheckpointState state, int[] input, int[] output, string direction)
    { Model = model; Network = network; State = state; InputShape = input; OutputShape = output; Direction = direction; }

    /// <summary>
    /// Loads the generator of a run folder or checkpoint file: a2b (every image-to-image model) or b2a (CycleGAN's F).
    /// <paramref name="who"/> names the command in errors; <paramref name="superResolution"/> requires srresnet or srgan.
    /// </summary>
    public static Translator Load(string checkpoint, string direction = "a2b", string who = "translate", bool superResolution = false)
    {
        direction = direction.Trim().ToLowerInvariant();
        if (direction is not ("a2b" or "b2a")) throw new ArgumentException($"{who}: --direction '{direction}' is not a2b or b2a");
        var path = Checkpoint.Locate(checkpoint);
        string name = direction == "a2b" ? GanModel.GeneratorName : CycleGan.GeneratorBaName;
        var (tensors, state) = Checkpoint.Read(path, Checkpoint.Under(name + "."));
        var variant = ModelZoo.Get(state.Model);
        if (variant is not ImageToImageVariant i2i)
            throw new ArgumentException($"{who}: {path} holds a {state.Model} run, which makes images from noise; {who} takes an image-to-image model " +
                                        "(pix2pix, unet-l1, dagan, srresnet, srgan, cyclegan); use `ganforge sample` for it");
        if (superResolution && i2i is not SrGan)
            throw new ArgumentException($"{who}: {path} holds a {state.Model} run; upscale takes a super-resolution model (srresnet, srgan); use `ganforge translate` for it");
        bool cycle = i2i is CycleGan;
        if (direction == "b2a" && !cycle)
            throw new ArgumentException($"{who}: --direction b2a: {state.Model} has one generator, from A to B; only cyclegan translates both ways");
        var config = state.Config;
        var options = TrainingSetup.Options(config);
        var spec = new ModelSpec(state.ImageShape[0], state.ImageShape[1], state.LatentDim, config.Seed, options);
        var model = Checkpoint.CreateModelToLoad(path, state, () => ModelZoo.Create(state.Model, spec));
        var network = model[name];
        Checkpoint.LoadInto(network, tensors, name + ".", path, state.Model);
        network.Eval();
        int size = state.ImageShape[1], inSize = i2i.InputSize(options, size);
        int[] a = [ImageToImageVariant.InputChannelsOf(spec), inSize, inSize], b = [state.ImageShape[0], size, size];
        return direction == "a2b" ? new Translator(model, network, state, a, b, direction) : new Translator(model, network, state, b, a, direction);
    }

    /// <summary>
    /// The outputs (N, C', H', W') in [-1,1] for <paramref name="images"/> (N,C,H,W) in [-1,1] of the input's shape (gray
    /// is repeated to RGB, RGB averaged to gray), <paramref name="batchSize"/> at a time; <paramref name="progress"/> gets the count done.
    /// </summary>
    public Tensor Translate(Tensor images, int batchSize = 64, Action<int>? progress = null, string who = "translate")
    {
        if (images.Rank != 4) throw new ArgumentException($"{who}: images must be (N,C,H,W), got {Shapes.Format(images.ShapeSpan)}");
        if (batchSize < 1) throw new ArgumentException($"{who}: --batch-size must be at least 1, got {batchSize}");
        images = MatchChannels(images, InputShape[0], who);
        if (images.Size(2) != InputShape[1] || images.Size(3) != InputShape[2])
            throw new ArgumentException($"{who}: the images are {images.Size(2)}x{images.Size(3)} but the {Model.Name} model takes {InputShape[1]}x{InputShape[2]} " +
                                        $"({(Direction == "a2b" ? "A" : "B")} of its training data); resize them first");
        int n = images.Size(0), perIn = images.Numel / Math.Max(n, 1);
        var output = new Tensor([n, .. OutputShape]);
        int perOut = output.Numel / Math.Max(n, 1);
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < n; start += batchSize)
        {
            int count = Math.Min(batchSize, n - start);
            var batch = Tensor.FromArray(images.Data.Slice(start * perIn, count * perIn), [count, .. images.Shape[1..]]);
            Network.Forward(batch).Data.CopyTo(output.Data.Slice(start * perOut, count * perOut));
            progress?.Invoke(start + count);
        }
        return output;
    }

    static Tensor MatchChannels(Tensor images, int channels, string who)
    {
        int c = images.Size(1);
        if (c == channels) return images;
        if (c == 1 && channels == 3) return Tensor.Cat([images, images, images], 1);
        if (c == 3 && channels == 1) return images.Mean([1], keepDim: true);
        throw new ArgumentException($"{who}: the images have {c} channels, the model takes {channels}");
    }
}

/// <summary>Reads images to translate: an IDX images file, one image file, a folder of images, or .npy.</summary>
public static class ImageInputs
{
    /// <summary>
    /// Images (N,C,H,W) in [-1,1] from <paramref name="path"/>: <c>.idx</c>/<c>-ubyte</c> (gray), <c>.npy</c> (floats in
    /// [-1,1], (N,C,H,W) or (N,H,W)), an image file (.png, .jpg, ...; one image), or a folder of images of one size (in
    /// file-name order). Image files are converted to <paramref name="channels"/> (1 or 3) when it is given.
    /// </summary>
    public static Tensor Read(string path, int channels = 0, string who = "translate")
    {
        if (Directory.Exists(path))
        {
            var folder = new ImageFolderDataset(path, new DataOptions { Channels = channels is 1 or 3 ? channels : 0 });
            var t = new Tensor(folder.Count, folder.Channels, folder.Height, folder.Width);
            int per = t.Numel / Math.Max(folder.Count, 1);
            for (int i = 0; i < folder.Count; i++) folder.Get(i).Image.Data.CopyTo(t.Data.Slice(i * per, per));
            return ToSigned(t);
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"{who}: --images '{path}' not found (give an .idx or .npy file, an image file or a folder of images)", path);
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".npy")
        {
            var x = Npy.Load(path);
            if (x.Rank == 3) x = x.Unsqueeze(1);
            if (x.Rank != 4 || x.Size(0) == 0)
                throw new InvalidDataException($"{path}: expected images (N,C,H,W) or (N,H,W) in [-1,1], got {Shapes.Format(x.ShapeSpan)}");
            foreach (float v in x.Data)
                if (!float.IsFinite(v)) throw new InvalidDataException($"{path}: holds {v}; images must be finite values in [-1,1]");
            return x;
        }
        if (ImageFile.HasImageExtension(path))
        {
            var image = ImageFile.Load(path);
            if (channels is 1 or 3) image = image.ToChannels(channels);
            else if (image.HasAlpha) image = image.ToChannels(image.IsGray ? 1 : 3);
            return ToSigned(image.ToTensor().Unsqueeze(0));
        }
        var idx = Idx.ReadImages(path);
        var images = new Tensor(idx.Count, 1, idx.Dims[1], idx.Dims[2]);
        for (int i = 0; i < idx.Data.Length; i++) images.Data[i] = idx.Data[i] / 127.5f - 1f;
        return images;
    }

    static Tensor ToSigned(Tensor unit)
    {
        var d = unit.Data;
        for (int i = 0; i < d.Length; i++) d[i] = d[i] * 2f - 1f;
        return unit;
    }
}
