using System.Diagnostics;
using System.Text.Json;
using GanForge.Gan.Losses;
using GanForge.Gan.Zoo;
using GanForge.NN;
using GanForge.Optim;
using GanForge.Serialization;

namespace GanForge.Gan.Training;

/// <summary>One logging window's figures, as written to metrics.jsonl and shown in the console.</summary>
public sealed record TrainProgress(long Step, long TotalSteps, int Epoch, int Epochs, double ImagesPerSecond,
    IReadOnlyDictionary<string, double> Stats);

/// <summary>
/// Runs the GAN game: each iteration runs its phases in order (k discriminator steps, then one
/// generator step), logs statistics, watches for failures, writes a sample grid from fixed noise
/// and a checkpoint at the end of every epoch, and can continue from a checkpoint exactly.
/// </summary>
public sealed class Trainer
{
    readonly TrainConfig _config;
    readonly GanModel _model;
    readonly IBatchSource _data;
    readonly IReadOnlyList<Phase> _phases;
    readonly TrainingContext _ctx;
    readonly Ema? _ema;
    readonly Tensor _fixedNoise;
    readonly Monitors _monitors = new();
    int _epoch;

    public event Action<TrainProgress>? Progress;
    public event Action<TrainingWarning>? Warning;
    public event Action<string>? Info;

    public List<TrainingWarning> Warnings { get; } = [];

    /// <summary>Scores logged every <see cref="TrainConfig.EvalEvery"/> steps and at each epoch's end; null = none.</summary>
    public IEvaluationHook? Evaluation { get; set; }

    public string OutDir => _config.Out;
    public GanModel Model => _model;
    public long Step => _ctx.Step;
    public long TotalSteps => (long)_config.Epochs * StepsPerEpoch;
    int StepsPerEpoch => Math.Max(1, _data.BatchesPerEpoch / _config.K);

    public Trainer(TrainConfig config, GanModel model, IBatchSource data)
    {
        _config = config;
        _model = model;
        _data = data;
        float lr = config.ResolvedLr;
        Optimizer Make(Module m) => config.Optimizer == "sgd"
            ? new Sgd(m.Parameters(), lr, momentum: config.Momentum)
            : new Adam(m.Parameters(), lr, beta1: config.Beta1, beta2: config.Beta2);
        _ctx = new TrainingContext
        {
            Model = model,
            OptimizerG = Make(model.Generator),
            OptimizerD = Make(model.Discriminator),
            Loss = GanLoss.FromName(config.Loss),
            Labels = new LabelOptions(config.RealLabel, config.LabelFlip),
            Data = data,
            Noise = new Generator(config.Seed * 1000 + 1),
            LabelNoise = new Generator(config.Seed * 1000 + 2),
        };
        _phases = [new DiscriminatorPhase(config.K, config.DBatch == "mixed"), new GeneratorPhase()];
        _fixedNoise = model.SampleLatent(64, new Generator(config.Seed * 1000 + 3));
        if (config.Ema > 0) _ema = new Ema(model.Generator, model.CreateGenerator(), config.Ema);
    }

    /// <summary>The generator used for samples: the EMA when enabled.</summary>
    public Module SamplingGenerator => _ema?.Average ?? _model.Generator;

    /// <summary>Restores weights, optimizers, noise streams, data position and counters from a checkpoint.</summary>
    public void Resume(string checkpoint)
    {
        var path = Checkpoint.Locate(checkpoint);
        var (tensors, state) = Checkpoint.Read(path);
        if (state.Model != _model.Name)
            throw new InvalidDataException($"{path}: checkpoint is of model '{state.Model}', this run is '{_model.Name}'");
        Checkpoint.LoadInto(_model.Generator, tensors, "generator.", path, state.Model);
        Checkpoint.LoadInto(_model.Discriminator, tensors, "discriminator.", path, state.Model);
        if (_ema != null && state.HasEma) Checkpoint.LoadInto(_ema.Average, tensors, "generator_ema.", path, state.Model);
        OptimizerState.Import(_ctx.OptimizerG, Checkpoint.Part(tensors, "optimizer_g."), state.OptimizerG, path);
        OptimizerState.Import(_ctx.OptimizerD, Checkpoint.Part(tensors, "optimizer_d."), state.OptimizerD, path);
        if (tensors.TryGetValue("fixed_noise", out var noise) && noise.ShapeSpan.SequenceEqual(_fixedNoise.ShapeSpan)) _fixedNoise.CopyFrom(noise);
        _ctx.Noise.SetState(state.NoiseRng);
        _ctx.LabelNoise.SetState(state.LabelRng);
        _data.Seek(state.DataEpoch, state.DataBatch);
        _ctx.Step = state.Step;
        _epoch = state.Epoch;
        Info?.Invoke($"Resumed from {path} at epoch {_epoch}, step {_ctx.Step}");
    }

    /// <summary>Trains until the configured epochs (or MaxSteps) are done.</summary>
    public void Run(CancellationToken cancel = default)
    {
        Directory.CreateDirectory(Path.Combine(_config.Out, "samples"));
        AtomicFile.WriteAllText(Path.Combine(_config.Out, "config.yaml"), _config.ToYaml());
        if (_ctx.Step == 0 && _config.PretrainAe > 0)
            new AutoencoderPretrainer(_model, _data, _config, Info).Run();

        var clock = Stopwatch.StartNew();
        long imagesSinceLog = 0;
        while (_epoch < _config.Epochs)
        {
            cancel.ThrowIfCancellationRequested();
            foreach (var phase in _phases) phase.Run(_ctx);
            _ctx.Step++;
            _ema?.Update();
            imagesSinceLog += (long)_config.BatchSize * _config.K;

            bool epochDone = _data.Position.Epoch > _epoch;
            bool stop = _config.MaxSteps > 0 && _ctx.Step >= _config.MaxSteps;
            if (_ctx.Step % _config.LogEvery == 0 || epochDone || stop)
            {
                Log(imagesSinceLog / Math.Max(clock.Elapsed.TotalSeconds, 1e-9));
                imagesSinceLog = 0;
                clock.Restart();
            }
            if (Evaluation != null && _config.EvalEvery > 0 && (_ctx.Step % _config.EvalEvery == 0 || epochDone || stop))
                Evaluate(_epoch);
            if (epochDone || stop)
            {
                if (epochDone) _epoch++;
                EndOfEpoch();
            }
            if (stop) break;
        }
    }

    void Log(double imagesPerSecond)
    {
        var stats = _ctx.Stats.Flush();
        if (_ctx.LastReal != null && _ctx.LastFake != null)
        {
            double real = Monitors.MeanPairwiseDistance(_ctx.LastReal);
            stats["diversity"] = real > 0 ? Monitors.MeanPairwiseDistance(_ctx.LastFake) / real : 1;
        }
        if (stats.TryGetValue("acc_real", out var ar) && stats.TryGetValue("acc_fake", out var af)) stats["acc"] = (ar + af) / 2;
        foreach (var w in _monitors.Check(_ctx.Step, stats))
        {
            Warnings.Add(w);
            Warning?.Invoke(w);
            AppendJsonLine("warnings.jsonl", new Dictionary<string, object> { ["step"] = w.Step, ["kind"] = w.Kind, ["message"] = w.Message });
        }
        var record = new Dictionary<string, object> { ["step"] = _ctx.Step, ["epoch"] = _epoch, ["images_per_s"] = Math.Round(imagesPerSecond, 1) };
        foreach (var (k, v) in stats) record[k] = Math.Round(v, 6);
        AppendJsonLine("metrics.jsonl", record);
        Progress?.Invoke(new TrainProgress(_ctx.Step, TotalSteps, _epoch, _config.Epochs, imagesPerSecond, stats));
    }

    void Evaluate(int epoch)
    {
        var g = SamplingGenerator;
        bool wasTraining = g.Training;
        g.Eval();
        IReadOnlyDictionary<string, double> scores;
        using (GradMode.NoGrad()) scores = Evaluation!.Evaluate(_model, g, _ctx.Step);
        g.Train(wasTraining);
        var record = new Dictionary<string, object> { ["step"] = _ctx.Step, ["epoch"] = epoch };
        foreach (var (k, v) in scores) record[k] = Math.Round(v, 6);
        AppendJsonLine("metrics.jsonl", record);
        Info?.Invoke($"step {_ctx.Step}: " + string.Join(", ", scores.Select(kv => $"{kv.Key} {kv.Value:G4}")));
    }

    void AppendJsonLine(string file, Dictionary<string, object> record) =>
        File.AppendAllText(Path.Combine(_config.Out, file), JsonSerializer.Serialize(record) + "\n");

    void EndOfEpoch()
    {
        var grid = Path.Combine(_config.Out, "samples", $"epoch_{_epoch:D3}.png");
        SaveGrid(grid);
        File.Copy(grid, Path.Combine(_config.Out, "samples.png"), overwrite: true);
        var (dataEpoch, dataBatch) = _data.Position;
        Checkpoint.Save(_config.Out, _model, _ema?.Average, _ctx.OptimizerG, _ctx.OptimizerD, _fixedNoise, new CheckpointState
        {
            Model = _model.Name,
            ConfigYaml = _config.ToYaml(),
            Step = _ctx.Step,
            Epoch = _epoch,
            DataEpoch = dataEpoch,
            DataBatch = dataBatch,
            NoiseRng = _ctx.Noise.GetState(),
            LabelRng = _ctx.LabelNoise.GetState(),
            ImageShape = _model.ImageShape,
            LatentDim = _model.LatentDim,
        });
        Info?.Invoke($"epoch {_epoch}: samples {grid}, checkpoint {Path.Combine(_config.Out, Checkpoint.FileName)}");
    }

    /// <summary>Writes a grid of samples from the fixed noise (generator in eval mode).</summary>
    public void SaveGrid(string path)
    {
        var g = SamplingGenerator;
        bool wasTraining = g.Training;
        g.Eval();
        Tensor images;
        using (GradMode.NoGrad()) images = g.Forward(_fixedNoise);
        g.Train(wasTraining);
        Data.ImageGrid.Save(path, images, new Data.ImageGridOptions { NRow = 8 });
    }
}
