using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;
using GanForge.Serialization;

namespace GanForge.Gan;

/// <summary>What <see cref="TorchImport.Import"/> wrote.</summary>
/// <param name="Checkpoint">The checkpoint file written.</param>
/// <param name="Model">The model, its generator holding the imported weights (in eval mode).</param>
/// <param name="Match">How the file's names lined up with the generator's (the prefix stripped, tensors left alone).</param>
public sealed record ImportResult(string Checkpoint, GanModel Model, StateDictMatch Match);

/// <summary>
/// A generator trained in PyTorch, its <c>state_dict</c> saved with <c>safetensors.torch.save_file</c>, made into a
/// GanForge checkpoint that `sample`, `interpolate`, `export` and `info` read as they read a trained run's.
/// </summary>
/// <remarks>
/// The zoo's networks are nn.Sequential-shaped with PyTorch's layer order and tensor layouts (a ConvTranspose2d weight
/// is (in, out, kH, kW) in both), so a generator built the same way loads tensor for tensor; only the names' prefix
/// differs (<see cref="StateDictMatch"/>). pytorch/examples' DCGAN at 64 x 64 is the zoo's dcgan with image size 64,
/// 3 channels, latent size 100 and width 64 (ngf).
/// </remarks>
public static class TorchImport
{
    /// <summary>
    /// Builds <paramref name="config"/>'s model, loads <paramref name="file"/> into its generator and saves the
    /// checkpoint into <paramref name="config"/>'s output folder (which must not hold a run already).
    /// </summary>
    /// <param name="file">A safetensors file of the generator's state_dict (any float dtype; other networks' tensors may be beside it).</param>
    /// <param name="config">
    /// The model and its shape: <see cref="TrainConfig.Model"/>, <see cref="TrainConfig.ImageSize"/> and
    /// <see cref="TrainConfig.Channels"/> (both required), <see cref="TrainConfig.LatentDim"/>, the model options, and
    /// <see cref="TrainConfig.Out"/>.
    /// </param>
    /// <param name="prefix">The name prefix to strip (e.g. "main."); null finds it.</param>
    /// <exception cref="InvalidDataException">The file is not safetensors, or does not fit the generator: every missing, unexpected and mis-shaped tensor is listed.</exception>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    /// <exception cref="IOException">The output folder holds a run already.</exception>
    public static ImportResult Import(string file, TrainConfig config, string? prefix = null)
    {
        config.Validate();
        if (config.ImageSize <= 0) throw new ArgumentException("import: give the generator's image size (--image-size)");
        if (config.Channels <= 0) throw new ArgumentException("import: give the generator's channels (--channels 1 or 3)");
        if (!File.Exists(file)) throw new FileNotFoundException($"import: '{file}' not found", file);
        var resolved = config.Resolve();
        resolved.Data = "";   // trained elsewhere, on data this checkpoint does not know
        var tensors = SafeTensors.Load(file);

        var model = ModelZoo.Create(resolved.Model, new ModelSpec(resolved.Channels, resolved.ImageSize, resolved.LatentDim, resolved.Seed,
            TrainingSetup.Options(resolved)));
        var match = StateDictMatch.Of(model.Generator, tensors, prefix);
        if (!match.Fits)
        {
            string options = string.Join(" ", resolved.ModelOptions.Select(o => $"{o.Key}={o.Value}"));
            throw new InvalidDataException(
                $"{file} does not fit {resolved.Model}'s generator of {resolved.Channels}x{resolved.ImageSize}x{resolved.ImageSize} images from " +
                $"latents of {resolved.LatentDim}{(options.Length > 0 ? $" ({options})" : "")}" +
                (match.Prefix.Length > 0 ? $" under the prefix '{match.Prefix}'" : "") + $": {match.Describe()} " +
                "(set the shape with --image-size, --channels, --latent-dim and --set; `ganforge models` lists each model's options)");
        }
        model.Generator.LoadStateDict(match.Tensors.Where(kv => model.Generator.StateDict().ContainsKey(kv.Key)).ToDictionary(), strict: false);
        model.Generator.Eval();
        CheckOutputs(model, file);

        var dir = resolved.Out;
        if (File.Exists(Path.Combine(dir, Checkpoint.FileName)))
            throw new IOException($"'{dir}' already holds a run; choose another --out");
        Directory.CreateDirectory(dir);
        var state = new CheckpointState
        {
            Model = resolved.Model, ConfigYaml = resolved.ToYaml(), ImageShape = model.ImageShape, LatentDim = model.LatentDim,
            ImportedFrom = Path.GetFullPath(file),
        };
        Checkpoint.SaveGenerator(dir, model, state);
        return new ImportResult(Path.Combine(dir, Checkpoint.FileName), model, match);
    }

    /// <summary>A few images from the imported weights must be finite: a file of another dtype's overflowed values is refused here.</summary>
    static void CheckOutputs(GanModel model, string file)
    {
        using var _ = GradMode.NoGrad();
        var images = model.Generator.Forward(model.SampleLatent(2, new Generator(0)));
        foreach (float v in images.Data)
            if (!float.IsFinite(v))
                throw new InvalidDataException($"{file}: the imported generator gives non-finite images (its weights hold NaN or infinity)");
    }
}
