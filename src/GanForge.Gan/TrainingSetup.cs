using GanForge.Data;
using GanForge.Distributed;
using GanForge.Data.Formats;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;

namespace GanForge.Gan;

/// <summary>Builds a training run from a configuration: data, model, trainer; checks what would be lost.</summary>
public static class TrainingSetup
{
    /// <summary>Which kernels run, for the console header.</summary>
    public static string EngineDescription =>
        $"GEMM {Kernels.Gemm.Backend}, conv {Kernels.Conv.Backend}, {Threading.Threads} threads{(Precision.Current == ComputePrecision.Bf16 ? ", bf16 convolutions" : "")}";

    /// <summary>
    /// Creates the trainer for <paramref name="config"/>: locks the output folder (<see cref="RunLock"/>, held by the
    /// trainer until its run ends), resolves the configuration against its variant (every blank filled in), loads the
    /// data, builds the networks and the game; with <paramref name="resume"/>, checks the settings against the
    /// checkpoint's (<see cref="ResumeSettings"/>: what changed is recorded in <see cref="TrainConfig.Changes"/>) and
    /// restores the checkpoint.
    /// </summary>
    /// <param name="config">The settings as given (blanks allowed).</param>
    /// <param name="resume">Continue the run in <see cref="TrainConfig.Out"/>.</param>
    /// <param name="group">
    /// The ranks of data-parallel training (every rank calls this), or null for one process. Rank 0 alone touches the
    /// output folder (it locks it and reads the checkpoint, whose bytes it sends to the others); each rank loads the
    /// data from the same path and keeps its shard of every batch. A failure on any rank fails every rank's call.
    /// </param>
    public static Trainer Create(TrainConfig config, bool resume, IProcessGroup? group = null)
    {
        var user = config.Copy();
        user.Ranks = group?.Size ?? 1;
        bool root = group == null || group.Rank == 0;
        TrainConfig? resolved = null;
        RunLock? runLock = null;
        byte[]? checkpoint = null;
        Exception? failure = null;
        try
        {
            user.Validate();
            resolved = user.Resolve();
            if (root)
            {
                runLock = PrepareOutput(resolved.Out, resume);
                if (resume && group != null) checkpoint = File.ReadAllBytes(Checkpoint.Locate(resolved.Out));
            }
        }
        catch (Exception e) when (group != null) { runLock?.Dispose(); runLock = null; failure = e; }
        group?.ThrowIfAnyFailed(failure, "checking the settings and the output folder");
        Precision.Current = resolved!.ParsedPrecision();
        if (resolved.Threads > 0) Threading.Threads = resolved.Threads;
        else if (group != null && MpiLauncher.Detect() is { LocalSize: > 1 } launcher)
            Threading.Threads = launcher.ThreadsPerProcess(Environment.ProcessorCount);   // the machine's cores shared by its ranks
        if (resume && group != null) checkpoint = group.BroadcastBytes(checkpoint);

        Trainer? trainer = null;
        try { trainer = Build(resolved, user, resume, checkpoint, group, runLock); }
        catch (Exception e) when (group != null) { failure = e; }
        catch { runLock?.Dispose(); throw; }
        try { group?.ThrowIfAnyFailed(failure, "setting up the run"); }
        catch { runLock?.Dispose(); throw; }
        return trainer!;
    }

    static Trainer Build(TrainConfig resolved, TrainConfig given, bool resume, byte[]? checkpoint, IProcessGroup? group, RunLock? runLock)
    {
        var checkpointPath = Path.Combine(resolved.Out, Checkpoint.FileName);
        var saved = !resume ? default : checkpoint != null ? Checkpoint.Read(checkpoint, checkpointPath) : Checkpoint.Read(resolved.Out);
        if (saved.State is { } previous && previous.Config.Ranks != resolved.Ranks)
            throw new ArgumentException($"--resume: the run in '{resolved.Out}' was trained by {Ranks(previous.Config.Ranks)} and this is {Ranks(resolved.Ranks)}; " +
                $"resume it with the same number ({(previous.Config.Ranks > 1 ? $"mpirun -np {previous.Config.Ranks} ... --distributed mpi" : "one process, without mpirun")}): " +
                "each rank's share of the batch, and so batch statistics, depend on it");

        if (saved.State != null) Checkpoint.ThrowIfImported(checkpointPath, saved.State);
        var shard = group is { Size: > 1 } ? new Shard(group.Rank, group.Size) : Shard.Whole;
        var variant = ModelZoo.Get(resolved.Model);
        if (variant.Data != TrainingData.Images && shard.Count > 1)
            throw new ArgumentException($"{variant.Name}: data-parallel training (--distributed) is not supported for the image-to-image models; train in one process");
        var (source, channels, size, description) = variant.Data switch
        {
            TrainingData.Pairs => ImageToImageSetup.Pairs(variant, resolved, given),
            TrainingData.Domains => ImageToImageSetup.Domains(variant, resolved, given),
            _ => Images(resolved, given, shard),
        };
        if (saved.State is { } state)
        {
            var before = state.Config;
            if (before.Channels == 0) before.Channels = channels;   // runs saved before channels were recorded used the data's own
            resolved.Changes = [.. before.Changes, .. ResumeSettings.Compare(before, resolved, state.Step)];
        }
        else resolved.Changes = [];

        GanModel BuildModel() => ModelZoo.Create(resolved.Model, new ModelSpec(channels, size, resolved.LatentDim, resolved.Seed, Options(resolved)));
        var model = saved.State != null ? Checkpoint.CreateModel(checkpointPath, saved.State, BuildModel) : BuildModel();
        var trainer = new Trainer(resolved, CreateGame(resolved, model), source, group)
        {
            DataDescription = description,
        };
        if (runLock != null) trainer.Hold(runLock);
        if (saved.State != null) trainer.Resume(checkpointPath, saved.Tensors, saved.State);
        return trainer;
    }

    /// <summary>The images of a noise-to-image game: the data spec resolved, its shape recorded, the classes filled in.</summary>
    static (IBatchSource Source, int Channels, int Size, string Description) Images(TrainConfig resolved, TrainConfig given, Shard shard)
    {
        var data = DataSpec.Resolve(resolved.Data, resolved.Split, resolved.Limit, DataOptions(resolved));
        if (data.Split is "train" or "test") resolved.Split = data.Split;   // the split really used (embedded is the test split)
        var dataset = data.Dataset;
        var (image, _) = dataset.Get(0);
        int channels = image.Size(0), size = image.Size(1);
        if (image.Size(1) != image.Size(2))
            throw new ArgumentException($"Images of {resolved.Data} are {image.Size(1)}x{image.Size(2)}; pass --image-size to centre-crop and resize them to squares");
        (resolved.ImageSize, resolved.Channels) = (size, channels);
        ResolveClasses(resolved, given, dataset);
        return (new LoaderBatchSource(dataset, resolved, size, shard), channels, size, data.Description);
    }

    static string Ranks(int n) => n == 1 ? "one process" : $"{n} MPI ranks";

    /// <summary>
    /// The settings of the run in <paramref name="dir"/>, from its checkpoint, for a resume to start from. With a
    /// process group, rank 0 reads them and sends them to every rank (the others need not see the folder).
    /// </summary>
    public static TrainConfig SavedConfig(string dir, IProcessGroup? group = null)
    {
        if (group == null) return Checkpoint.Read(dir, Checkpoint.NoTensors).State.Config;
        string? yaml = null;
        Exception? failure = null;
        if (group.Rank == 0)
            try { RunLock.ThrowIfHeld(dir); yaml = Checkpoint.Read(dir, Checkpoint.NoTensors).State.ConfigYaml; }
            catch (Exception e) { failure = e; }
        group.ThrowIfAnyFailed(failure, $"reading the checkpoint in '{dir}'");
        var bytes = group.BroadcastBytes(yaml == null ? null : System.Text.Encoding.UTF8.GetBytes(yaml));
        return TrainConfig.FromYaml(System.Text.Encoding.UTF8.GetString(bytes), "checkpoint config");
    }

    /// <summary>
    /// For a class-conditional variant: the number of classes from the data's labels unless the user set it, and a
    /// clear error when a label lies outside the classes the model will have.
    /// </summary>
    static void ResolveClasses(TrainConfig resolved, TrainConfig given, IDataset dataset)
    {
        const string key = ConditionalOptions.ClassesKey;
        if (!ModelZoo.Get(resolved.Model).Options.Any(o => o.Key == key)) return;
        int maxLabel = 0;
        for (int i = 0; i < dataset.Count; i++) maxLabel = Math.Max(maxLabel, dataset.Label(i));
        int found = Math.Max(dataset.Classes.Count, maxLabel + 1);
        if (!given.ModelOptions.ContainsKey(key))
        {
            if (found < 2)
                throw new ArgumentException($"{resolved.Model}: the training data {resolved.Data} has one class only; a class-conditional model needs labelled data with at least 2 classes");
            resolved.ModelOptions[key] = found.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (maxLabel >= int.Parse(resolved.ModelOptions[key], System.Globalization.CultureInfo.InvariantCulture))
            throw new ArgumentException($"{resolved.Model}: --set classes={resolved.ModelOptions[key]} but the training data {resolved.Data} has labels up to {maxLabel}");
    }

    /// <summary>How a configuration's data is converted once read: its channels, image size and unreadable files.</summary>
    public static DataOptions DataOptions(TrainConfig config) =>
        new() { Channels = config.Channels, ImageSize = config.ImageSize, SkipBad = config.SkipBad };

    /// <summary>The game the variant of a resolved configuration plays with <paramref name="model"/>.</summary>
    public static Game CreateGame(TrainConfig resolved, GanModel model) =>
        ModelZoo.Get(resolved.Model).CreateGame(model, resolved, Options(resolved));

    /// <summary>The variant's options of a configuration, resolved against its declarations.</summary>
    public static ModelOptions Options(TrainConfig config)
    {
        var variant = ModelZoo.Get(config.Model);
        return ModelOptions.Resolve(variant.Name, variant.Options, config.ModelOptions);
    }

    /// <summary>
    /// Checks that the folder can be written, locks it, and refuses to overwrite an earlier run (or to resume
    /// where there is none). Returns the lock.
    /// </summary>
    static RunLock PrepareOutput(string dir, bool resume)
    {
        if (resume && !Directory.Exists(dir))
            throw new FileNotFoundException($"--resume: no checkpoint in '{dir}' (the folder does not exist)");
        try
        {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".write-test-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"Cannot write to output folder '{dir}': {e.Message}", e);
        }
        var runLock = RunLock.Acquire(dir);
        bool hasRun = File.Exists(Path.Combine(dir, Checkpoint.FileName));
        if (resume && !hasRun)
        {
            runLock.Dispose();
            throw new FileNotFoundException($"--resume: no checkpoint in '{dir}' ({Checkpoint.FileName} missing)");
        }
        if (!resume && hasRun)
        {
            runLock.Dispose();
            throw new IOException($"'{dir}' already holds a run; pass --resume to continue it, or choose another --out");
        }
        return runLock;
    }

    /// <summary>A DataLoader as the trainer's batch source: shuffled by seed, drop-last, resized and scaled to [-1,1].</summary>
    sealed class LoaderBatchSource : IBatchSource
    {
        readonly DataLoader _loader;

        public LoaderBatchSource(IDataset dataset, TrainConfig config, int size, Shard shard)
        {
            if (dataset.Count < config.BatchSize)
                throw new ArgumentException($"The dataset has {dataset.Count} images, fewer than one batch of {config.BatchSize}");
            var (image, _) = dataset.Get(0);
            var transforms = new List<ITransform>();
            if (image.Size(1) != size || image.Size(2) != size) transforms.Add(new Resize(size, size));
            transforms.Add(new Normalize());
            _loader = new DataLoader(dataset, new DataLoaderOptions
            {
                BatchSize = config.BatchSize, Shuffle = true, DropLast = true, Seed = config.Seed, Transforms = transforms, Shard = shard,
            });
        }

        public int BatchesPerEpoch => _loader.BatchesPerEpoch;
        public (int Epoch, int Batch) Position => (_loader.Position.Epoch, _loader.Position.Batch);
        public GanBatch Next()
        {
            var batch = _loader.Next();
            var labels = new int[batch.Labels.Numel];
            for (int i = 0; i < labels.Length; i++) labels[i] = (int)batch.Labels.Data[i];
            return new GanBatch(batch.Images, labels);
        }
        public void Seek(int epoch, int batch) => _loader.Seek(new DataLoaderPosition(epoch, batch));
        public IDataset Dataset => _loader.Dataset;

        public GanBatch Take(IReadOnlyList<int> indices)
        {
            var images = new List<Tensor>(indices.Count);
            var labels = new int[indices.Count];
            var rng = new Generator(0);   // the transforms of training data are deterministic (resize, normalise)
            for (int i = 0; i < indices.Count; i++)
            {
                var (image, label) = _loader.Dataset.Get(indices[i]);
                foreach (var t in _loader.Options.Transforms) image = t.Apply(image, rng);
                images.Add(image.Unsqueeze(0));
                labels[i] = label;
            }
            return new GanBatch(Tensor.Cat([.. images], 0), labels);
        }
    }
}
