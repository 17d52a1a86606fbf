using GanForge.Data;
using GanForge.Data.Formats;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;

namespace GanForge.Gan;

/// <summary>Builds a training run from a configuration: data, model, trainer; checks what would be lost.</summary>
public static class TrainingSetup
{
    /// <summary>Which kernels run, for the console header.</summary>
    public static string EngineDescription => $"GEMM {Kernels.Gemm.Backend}, conv {Kernels.Conv.Backend}, {Threading.Threads} threads";

    /// <summary>
    /// Creates the trainer for <paramref name="config"/>: locks the output folder (<see cref="RunLock"/>, held by the
    /// trainer until its run ends), resolves the configuration against its variant (every blank filled in), loads the
    /// data, builds the networks and the game; with <paramref name="resume"/>, checks the settings against the
    /// checkpoint's (<see cref="ResumeSettings"/>: what changed is recorded in <see cref="TrainConfig.Changes"/>) and
    /// restores the checkpoint.
    /// </summary>
    public static Trainer Create(TrainConfig config, bool resume)
    {
        config.Validate();
        var resolved = config.Resolve();
        if (resolved.Threads > 0) Threading.Threads = resolved.Threads;
        var runLock = PrepareOutput(resolved.Out, resume);
        try
        {
            var saved = resume ? Checkpoint.Read(resolved.Out) : default;

            var data = DataSpec.Resolve(resolved.Data, resolved.Split, resolved.Limit);
            if (data.Split is "train" or "test") resolved.Split = data.Split;   // the split really used (embedded is the test split)
            var dataset = data.Dataset;
            var (image, _) = dataset.Get(0);
            int channels = image.Size(0), size = resolved.ImageSize > 0 ? resolved.ImageSize : image.Size(1);
            if (image.Size(1) != image.Size(2) && resolved.ImageSize == 0)
                throw new ArgumentException($"Images of {resolved.Data} are {image.Size(1)}x{image.Size(2)}; pass --image-size to train on square images");
            resolved.ImageSize = size;
            resolved.Changes = saved.State is { } state
                ? [.. state.Config.Changes, .. ResumeSettings.Compare(state.Config, resolved, state.Step)]
                : [];

            GanModel Build() => ModelZoo.Create(resolved.Model, new ModelSpec(channels, size, resolved.LatentDim, resolved.Seed, Options(resolved)));
            var model = saved.State != null ? Checkpoint.CreateModel(Checkpoint.Locate(resolved.Out), saved.Tensors, Build) : Build();
            var trainer = new Trainer(resolved, CreateGame(resolved, model), new LoaderBatchSource(dataset, resolved, size));
            trainer.Hold(runLock);
            if (saved.State != null) trainer.Resume(Checkpoint.Locate(resolved.Out), saved.Tensors, saved.State);
            return trainer;
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

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

        public LoaderBatchSource(IDataset dataset, TrainConfig config, int size)
        {
            if (dataset.Count < config.BatchSize)
                throw new ArgumentException($"The dataset has {dataset.Count} images, fewer than one batch of {config.BatchSize}");
            var (image, _) = dataset.Get(0);
            var transforms = new List<ITransform>();
            if (image.Size(1) != size || image.Size(2) != size) transforms.Add(new Resize(size, size));
            transforms.Add(new Normalize());
            _loader = new DataLoader(dataset, new DataLoaderOptions
            {
                BatchSize = config.BatchSize, Shuffle = true, DropLast = true, Seed = config.Seed, Transforms = transforms,
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
    }
}
