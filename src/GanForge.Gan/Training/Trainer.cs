using System.Diagnostics;
using System.Text.Json;
using GanForge.Distributed;
using GanForge.Gan.Zoo;
using GanForge.NN;
using GanForge.Optim;
using GanForge.Serialization;

namespace GanForge.Gan.Training;

/// <summary>
/// One logging window's figures, as written to metrics.jsonl and shown in the console. <c>Epoch</c> is the epoch
/// the step belongs to, counted from 1 (epoch 1 of <c>Epochs</c> is the first), as the console and the grids count.
/// </summary>
public sealed record TrainProgress(long Step, long TotalSteps, int Epoch, int Epochs, double ImagesPerSecond,
    IReadOnlyDictionary<string, double> Stats);

/// <summary>How <see cref="Trainer.Run"/> ended.</summary>
public enum RunOutcome
{
    /// <summary>Every epoch, or MaxSteps steps, trained.</summary>
    Finished,
    /// <summary>Stopped on request after a step, with a checkpoint of that step (none when no step was taken).</summary>
    Cancelled,
}

/// <summary>
/// Runs any <see cref="Game"/>: each training step runs the game's phases in order, each with the
/// networks its optimizer does not own frozen; then the EMAs are updated. It logs statistics by name,
/// watches for failures, writes a sample grid from fixed noise and a checkpoint of every network,
/// optimizer and EMA (by name) at the end of every epoch, every <see cref="TrainConfig.CheckpointEvery"/>
/// steps or <see cref="TrainConfig.CheckpointMinutes"/> minutes, and when cancelled; and can continue from
/// any of them exactly. While it runs it holds the run folder's <see cref="RunLock"/>.
/// </summary>
/// <remarks>
/// Data-parallel (given a process group of N ranks): every rank holds the networks, starts from rank 0's weights,
/// trains on its <see cref="Shard"/> of each global batch and averages every gradient over the ranks before each
/// optimizer step (<see cref="GradientAllReduce"/>), so all ranks stay identical; the logged statistics are the
/// means over the ranks. Rank 0 alone touches the run folder: the lock, logs, grids, checkpoints and evaluations.
/// A stop request on any rank stops all of them after the same step.
/// </remarks>
public sealed class Trainer : IDisposable
{
    readonly TrainConfig _config;
    readonly Game _game;
    readonly IBatchSource _data;
    readonly StepContext _ctx;
    readonly Dictionary<string, Optimizer> _optimizers = [];
    readonly Dictionary<string, Ema> _emas = [];
    readonly Latents _fixedLatents;   // the sample grids' latents: the same every epoch
    readonly GanBatch? _previewBatch; // an image-to-image game's grids: a fixed batch of its data
    readonly Dictionary<string, double> _baseLr = [];   // each group's rate before any schedule (Game.LrFactor)
    readonly Monitors _monitors;
    readonly IProcessGroup? _group;
    readonly Dictionary<string, GradientAllReduce> _reducers = [];
    double _allReduceMsLogged;   // AllReduceTime and the step at the last log, for allreduce_ms per step
    long _stepLogged;
    int _epoch;
    int _stepEpoch;
    long _savedStep = -1;
    CheckpointState? _resumedFrom;
    RunLock? _lock;

    public event Action<TrainProgress>? Progress;
    public event Action<TrainingWarning>? Warning;
    public event Action<string>? Info;

    public List<TrainingWarning> Warnings { get; } = [];

    /// <summary>Scores logged every <see cref="TrainConfig.EvalEvery"/> steps and at each epoch's end; null = none.</summary>
    public IEvaluationHook? Evaluation { get; set; }

    public string OutDir => _config.Out;
    public GanModel Model => _game.Model;
    public Game Game => _game;
    /// <summary>The resolved configuration of the run.</summary>
    public TrainConfig Config => _config;
    /// <summary>One line on the data trained on (<see cref="GanForge.Data.ResolvedData.Description"/>), for the console; empty when not given.</summary>
    public string DataDescription { get; init; } = "";
    public long Step => _ctx.Step;
    public long TotalSteps => (long)_config.Epochs * StepsPerEpoch;
    int StepsPerEpoch => Math.Max(1, _data.BatchesPerEpoch / _game.RealBatchesPerStep);

    /// <summary>The optimizer of each group, by name.</summary>
    public IReadOnlyDictionary<string, Optimizer> Optimizers => _optimizers;

    /// <summary>The ranks training together (null for one process).</summary>
    public IProcessGroup? ProcessGroup => _group;

    /// <summary>True on the process that writes the run folder: rank 0, or the only one.</summary>
    public bool IsRoot => _group == null || _group.Rank == 0;

    /// <summary>Time this process has spent averaging gradients over the ranks (zero for one process).</summary>
    public TimeSpan AllReduceTime => TimeSpan.FromTicks(_reducers.Values.Sum(r => r.Elapsed.Ticks));

    /// <param name="config">The run's configuration, resolved (<see cref="TrainConfig.Resolve"/>).</param>
    /// <param name="game">The variant's game.</param>
    /// <param name="data">Training batches: with a process group, this rank's shard of each global batch.</param>
    /// <param name="processGroup">The ranks of data-parallel training; null (or one rank) trains alone.</param>
    public Trainer(TrainConfig config, Game game, IBatchSource data, IProcessGroup? processGroup = null)
    {
        game.Validate();
        _config = config;
        _game = game;
        _data = data;
        _group = processGroup is { Size: > 1 } ? processGroup : null;
        if (config.Ranks != (processGroup?.Size ?? 1))
            throw new ArgumentException($"Trainer: the configuration is for {config.Ranks} ranks, the process group has {processGroup?.Size ?? 1}");
        foreach (var group in game.Optimizers)
        {
            // stylegan2-ada's lazy regularisation: a group regularised every k steps runs at lr·c, β^c, c = k/(k+1).
            int every = game.Phases.Where(p => p.Optimizer == group.Name).Max(p => (int?)p.Every) ?? 1;
            double ratio = every > 1 ? every / (every + 1.0) : 1;
            var parameters = group.Networks.SelectMany(n => game.Model[n].Parameters()).ToList();
            _optimizers[group.Name] = group.Settings.Create(parameters, ratio);
            _baseLr[group.Name] = _optimizers[group.Name].ParamGroups[0].Lr;
            if (_group != null) _reducers[group.Name] = new GradientAllReduce(_group, parameters);
        }
        if (_group != null && config.SyncBatchnorm)
            foreach (var (_, network) in game.Model.Networks) BatchNormBase.Synchronize(network, _group);
        _ctx = new StepContext
        {
            Game = game,
            Data = data,
            Noise = new Generator(config.Seed * 1000 + 1),
            LabelNoise = new Generator(config.Seed * 1000 + 2),
            Shard = _group == null ? Shard.Whole : new Shard(_group.Rank, _group.Size),
        };
        _monitors = new Monitors(game.Loss) { DivergedLoss = game.DivergedGeneratorLoss };
        _fixedLatents = game.Model.GridLatents(new Generator(config.Seed * 1000 + 3));
        if (game.Preview != null)
            _previewBatch = data.Preview(8) ?? throw new ArgumentException($"{game.Model.Name}: the training data gives no fixed batch for sample grids");
        if (config.Ema > 0)
            foreach (var name in game.EmaNetworks) _emas[name] = new Ema(game.Model[name], game.Model.CreateNetwork(name), config.Ema);
    }

    /// <summary>The generator used for samples: its EMA when enabled.</summary>
    public Module SamplingGenerator => _emas.TryGetValue(GanModel.GeneratorName, out var ema) ? ema.Average : _game.Model.Generator;

    /// <summary>Restores every network, EMA and optimizer, the noise streams, data position and counters from a checkpoint.</summary>
    public void Resume(string checkpoint)
    {
        var path = Checkpoint.Locate(checkpoint);
        var (tensors, state) = Checkpoint.Read(path);
        Resume(path, tensors, state);
    }

    /// <summary>As <see cref="Resume(string)"/>, from a checkpoint already read.</summary>
    internal void Resume(string path, Dictionary<string, Tensor> tensors, CheckpointState state)
    {
        Checkpoint.ThrowIfImported(path, state);
        if (state.Model != _game.Model.Name)
            throw new InvalidDataException($"{path}: checkpoint is of model '{state.Model}', this run is '{_game.Model.Name}'");
        foreach (var (name, network) in _game.Model.Networks) Checkpoint.LoadInto(network, tensors, name + ".", path, state.Model);
        foreach (var (name, ema) in _emas)
            if (state.HasEmaOf(name)) Checkpoint.LoadInto(ema.Average, tensors, name + "_ema.", path, state.Model);
        foreach (var (group, optimizer) in _optimizers)
            OptimizerState.Import(optimizer, Checkpoint.Part(tensors, $"optimizer_{group}."), state.OptimizerJson(group), path, group);
        foreach (var part in _game.Parts) part.LoadStateDict(Checkpoint.Part(tensors, part.Name + "."));
        if (tensors.TryGetValue("fixed_noise", out var noise) && noise.Numel == _fixedLatents.Z.Numel) _fixedLatents.Z.CopyFrom(noise.Reshape(_fixedLatents.Z.Shape));
        _ctx.Noise.SetState(state.NoiseRng);
        _ctx.LabelNoise.SetState(state.LabelRng);
        if (state.DataBatch > _data.BatchesPerEpoch)
            throw new InvalidDataException($"{path}: checkpoint is at batch {state.DataBatch} of an epoch, this run's data has {_data.BatchesPerEpoch} batches per epoch");
        _data.Seek(state.DataEpoch, state.DataBatch);
        if (state.Monitors != null) _monitors.SetState(state.Monitors);
        _ctx.Step = _savedStep = state.Step;
        _epoch = state.Epoch;
        _resumedFrom = state;
        Info?.Invoke($"Resumed from {path} at step {_ctx.Step}, {_epoch} epochs done");
    }

    /// <summary>The run folder's lock, taken before the trainer is built (<see cref="TrainingSetup"/>), so a second run fails early.</summary>
    internal void Hold(RunLock runLock) { _lock?.Dispose(); _lock = runLock; }

    /// <summary>Lets go of the run folder's lock (<see cref="Run"/> does at its end).</summary>
    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    /// <summary>
    /// Trains until the configured epochs (or MaxSteps) are done, or <paramref name="cancel"/> is signalled: then
    /// the step under way is finished, logged and checkpointed, and the run returns <see cref="RunOutcome.Cancelled"/>.
    /// The run folder is locked meanwhile (by rank 0 alone in data-parallel training); the logs are cut back to the
    /// step the run starts from, the temporary files of a killed save are removed and, on a resume, checkpoint.json
    /// and generator.safetensors are rewritten from the checkpoint first.
    /// </summary>
    public RunOutcome Run(CancellationToken cancel = default)
    {
        if (IsRoot) _lock ??= RunLock.Acquire(_config.Out);
        try { return RunLocked(cancel); }
        finally { Dispose(); }
    }

    RunOutcome RunLocked(CancellationToken cancel)
    {
        if (IsRoot) PrepareFolder();
        if (_group != null)
        {
            // The same weights everywhere, rank 0's (they are already equal when every rank built them from the seed).
            foreach (var (_, network) in _game.Model.Networks) _group.BroadcastState(network);
            foreach (var (_, ema) in _emas) _group.BroadcastState(ema.Average);
        }
        if (_ctx.Step == 0 && _config.PretrainAe > 0)
            new AutoencoderPretrainer(_game.Model, _data, _config, Info).Run(cancel);

        long firstStep = _stepLogged = _ctx.Step;
        _allReduceMsLogged = AllReduceTime.TotalMilliseconds;
        var clock = Stopwatch.StartNew();
        var sinceCheckpoint = Stopwatch.StartNew();
        double checkpointMinutes = _config.CheckpointMinutes ?? 0;
        long imagesSinceLog = 0;
        while (_epoch < _config.Epochs)
        {
            if (StopRequested(cancel)) return Stop(firstStep, imagesSinceLog, clock);
            TrainStep();
            _stepEpoch = _epoch + 1;
            imagesSinceLog += (long)_config.BatchSize * _game.RealBatchesPerStep;

            bool epochDone = _data.Position.Epoch > _epoch;
            bool stop = _config.MaxSteps > 0 && _ctx.Step >= _config.MaxSteps;
            if (_ctx.Step % _config.LogEvery == 0 || epochDone || stop)
            {
                Log(imagesSinceLog / Math.Max(clock.Elapsed.TotalSeconds, 1e-9));
                imagesSinceLog = 0;
                clock.Restart();
            }
            if (Evaluation != null && IsRoot && _config.EvalEvery > 0 && (_ctx.Step % _config.EvalEvery == 0 || epochDone || stop))
                Evaluate();
            if (IsRoot && _config.SampleEvery > 0 && _ctx.Step % _config.SampleEvery == 0)
                SaveGrid(Path.Combine(_config.Out, "samples", $"step_{_ctx.Step:D7}.png"));
            if (epochDone || stop)
            {
                if (epochDone) _epoch++;
                EndOfEpoch(partial: !epochDone);
                sinceCheckpoint.Restart();
            }
            else if ((_config.CheckpointEvery > 0 && _ctx.Step % _config.CheckpointEvery == 0)
                     || (checkpointMinutes > 0 && sinceCheckpoint.Elapsed.TotalMinutes >= checkpointMinutes))
            {
                SaveCheckpoint();
                if (IsRoot) Info?.Invoke($"checkpoint at step {_ctx.Step} (epoch {_stepEpoch}): {CheckpointPath}");
                sinceCheckpoint.Restart();
            }
            if (stop) break;
        }
        return RunOutcome.Finished;
    }

    /// <summary>The run folder as the run starts (rank 0 only): logs cut to the step, stale files removed, config.yaml.</summary>
    void PrepareFolder()
    {
        Directory.CreateDirectory(Path.Combine(_config.Out, "samples"));
        RunFolder.RemoveStaleTempFiles(_config.Out);
        // A run killed between writing checkpoint.safetensors and the files derived from it left those behind.
        if (_resumedFrom is { } saved && saved.Step == _ctx.Step) Checkpoint.WriteCompanions(_config.Out, _game.Model.Generator, saved);
        _resumedFrom = null;
        RunFolder.CutLogs(_config.Out, _ctx.Step);
        RunFolder.RemoveGridsAfter(_config.Out, _epoch, _ctx.Step);
        AtomicFile.WriteAllText(Path.Combine(_config.Out, "config.yaml"), _config.ToYaml());
    }

    /// <summary>Whether to stop before the next step: asked for here, or, in data-parallel training, on any rank.</summary>
    bool StopRequested(CancellationToken cancel) =>
        _group == null ? cancel.IsCancellationRequested : _group.Any(cancel.IsCancellationRequested);

    /// <summary>A cancelled run: the last window logged, a checkpoint of this step (unless one was just written).</summary>
    RunOutcome Stop(long firstStep, long imagesSinceLog, Stopwatch clock)
    {
        if (_ctx.Step == firstStep && _savedStep != _ctx.Step)
        {
            if (IsRoot) Info?.Invoke($"stopped before the first step of this run (step {_ctx.Step}): nothing new to save");
            return RunOutcome.Cancelled;
        }
        if (imagesSinceLog > 0) Log(imagesSinceLog / Math.Max(clock.Elapsed.TotalSeconds, 1e-9));
        if (_savedStep != _ctx.Step) SaveCheckpoint();
        if (IsRoot) Info?.Invoke($"stopped at step {_ctx.Step}: checkpoint {CheckpointPath}");
        return RunOutcome.Cancelled;
    }

    string CheckpointPath => Path.Combine(_config.Out, Checkpoint.FileName);

    /// <summary>One training step: every phase of the game in order, then the EMAs (no logging, no checkpoint).</summary>
    public void TrainStep()
    {
        if (_game.LrFactor is { } factor)
        {
            // Over the planned epochs: --max-steps stops a run early without reshaping its schedule.
            double f = factor(_ctx.Step, TotalSteps);
            foreach (var (name, optimizer) in _optimizers)
                foreach (var g in optimizer.ParamGroups) g.Lr = _baseLr[name] * f;
        }
        foreach (var phase in _game.Phases) RunPhase(phase);
        _ctx.Step++;
        foreach (var ema in _emas.Values) ema.Update(_ctx.Step);
    }

    /// <summary>
    /// One phase on this step: with every network its optimizer does not own frozen, its loss (times its
    /// interval for a lazy regulariser), backward and an optimizer step, as many times as it repeats.
    /// </summary>
    internal void RunPhase(Phase phase)
    {
        if (_ctx.Step % phase.Every != 0) return;
        var optimizer = _optimizers[phase.Optimizer];
        var owned = _game.Group(phase.Optimizer).Networks;
        // Frozen for the phase, then given back the flags they had (a user may have frozen layers of their own).
        var frozen = _game.Model.Networks.Where(n => !owned.Contains(n.Key))
            .SelectMany(n => n.Value.Parameters()).Select(p => (Param: p, Was: p.RequiresGrad)).ToList();
        foreach (var (p, _) in frozen) p.RequiresGrad = false;
        try
        {
            _reducers.TryGetValue(phase.Optimizer, out var reducer);
            for (int i = 0; i < phase.Repeats; i++)
            {
                var loss = phase.Loss(_ctx);
                if (phase.Every > 1) loss = loss * phase.Every;
                float value = loss.Item();
                if (reducer == null) Monitors.CheckFinite($"{phase.Name} loss", value, _ctx.Step);
                optimizer.ZeroGradAndRecycle(); // the trainer owns the gradients: their buffers are reused
                if (reducer == null && !phase.KeepsGradients)
                    optimizer.BackwardAndStep(loss);   // nothing reads the gradients between: steps may run inside the backward
                else
                {
                    loss.Backward();
                    if (reducer != null)
                    {
                        // The loss travels with the gradients, so every rank checks the same mean and all stop together.
                        Span<float> mean = [value];
                        reducer.Average(mean);
                        Monitors.CheckFinite($"{phase.Name} loss", mean[0], _ctx.Step);
                    }
                    optimizer.Step();
                }
                phase.AfterStep(_ctx);
                // Gradients a phase keeps are let go of here, so no later recycling can reach them.
                if (phase.KeepsGradients) optimizer.ZeroGrad();
            }
        }
        finally { foreach (var (p, was) in frozen) p.RequiresGrad = was; }
    }

    void Log(double imagesPerSecond)
    {
        var stats = _ctx.Stats.Flush();
        if (_ctx.LastReal != null && _ctx.LastFake != null)
        {
            double real = Monitors.MeanPairwiseDistance(_ctx.LastReal.RealOutputs);
            stats[Stats.Diversity.Name] = real > 0 ? Monitors.MeanPairwiseDistance(_ctx.LastFake) / real : 1;
        }
        if (_group != null) stats = GlobalMeans(stats);
        if (stats.TryGetValue(Stats.AccReal.Name, out var ar) && stats.TryGetValue(Stats.AccFake.Name, out var af)) stats[Stats.Acc.Name] = (ar + af) / 2;
        // Every rank watches the same global figures, so the monitors' counts agree; rank 0 alone writes and tells.
        foreach (var w in _monitors.Check(_ctx.Step, stats))
        {
            if (!IsRoot) continue;
            Warnings.Add(w);
            Warning?.Invoke(w);
            AppendJsonLine("warnings.jsonl", new Dictionary<string, object> { ["step"] = w.Step, ["kind"] = w.Kind, ["message"] = w.Message });
        }
        if (!IsRoot) return;
        var record = new Dictionary<string, object> { ["step"] = _ctx.Step, ["epoch"] = CurrentEpoch, [Stats.ImagesPerSecond.Name] = Math.Round(imagesPerSecond, 1) };
        foreach (var (k, v) in stats) record[k] = Math.Round(v, 6);
        AppendJsonLine("metrics.jsonl", record);
        Progress?.Invoke(new TrainProgress(_ctx.Step, TotalSteps, CurrentEpoch, _config.Epochs, imagesPerSecond, stats));
    }

    /// <summary>
    /// The statistics of the window averaged over the ranks: each rank's are means over its rows, and the shards are
    /// of equal size, so their mean is the global batch's (the diversity ratio is the mean of the ranks' ratios). The
    /// time spent averaging gradients is added as milliseconds per step.
    /// </summary>
    Dictionary<string, double> GlobalMeans(Dictionary<string, double> stats)
    {
        double allReduceMs = AllReduceTime.TotalMilliseconds;
        stats[Stats.AllReduceMs.Name] = (allReduceMs - _allReduceMsLogged) / Math.Max(_ctx.Step - _stepLogged, 1);
        (_allReduceMsLogged, _stepLogged) = (allReduceMs, _ctx.Step);
        // The ranks ran the same phases, so they hold the same names; sorted, they line up.
        var names = stats.Keys.Order(StringComparer.Ordinal).ToArray();
        var values = names.Select(n => stats[n]).ToArray();
        _group!.AllReduce(values);
        return names.Select((n, i) => (n, v: values[i] / _group.Size)).ToDictionary(p => p.n, p => p.v);
    }

    /// <summary>The epoch the last step belongs to, from 1: logs, the console and sample grids count epochs alike.</summary>
    int CurrentEpoch => _stepEpoch;

    void Evaluate()
    {
        var g = SamplingGenerator;
        bool wasTraining = g.Training;
        g.Eval();
        IReadOnlyDictionary<string, double> scores;
        using (GradMode.NoGrad()) scores = Evaluation!.Evaluate(_game.Model, g, _ctx.Step);
        g.Train(wasTraining);
        var record = new Dictionary<string, object> { ["step"] = _ctx.Step, ["epoch"] = CurrentEpoch };
        foreach (var (k, v) in scores) record[k] = Math.Round(v, 6);
        AppendJsonLine("metrics.jsonl", record);
        Info?.Invoke($"step {_ctx.Step}: " + string.Join(", ", scores.Select(kv => $"{kv.Key} {kv.Value:G4}")));
    }

    void AppendJsonLine(string file, Dictionary<string, object> record) =>
        File.AppendAllText(Path.Combine(_config.Out, file), JsonSerializer.Serialize(record) + "\n");

    /// <summary>
    /// The end of an epoch (or of a run stopped within one, <paramref name="partial"/>): a sample grid named by
    /// the epoch, counted from 1 as the console does, and a checkpoint.
    /// </summary>
    void EndOfEpoch(bool partial)
    {
        int epoch = CurrentEpoch;
        if (!IsRoot) { SaveCheckpoint(); return; }
        var grid = Path.Combine(_config.Out, "samples", $"epoch_{epoch:D3}.png");
        SaveGrid(grid);
        AtomicFile.WriteAllBytes(Path.Combine(_config.Out, "samples.png"), File.ReadAllBytes(grid));
        SaveCheckpoint();
        Info?.Invoke($"epoch {epoch}{(partial ? $" (stopped at step {_ctx.Step})" : "")}: samples {grid}, checkpoint {CheckpointPath}");
    }

    /// <summary>
    /// A checkpoint of this step: every network, EMA and optimizer, the noise streams and the data position. Rank 0
    /// alone writes it: every rank holds the same state.
    /// </summary>
    void SaveCheckpoint()
    {
        if (!IsRoot) { _savedStep = _ctx.Step; return; }
        var (dataEpoch, dataBatch) = _data.Position;
        Checkpoint.Save(_config.Out, _game.Model, _emas.ToDictionary(e => e.Key, e => e.Value.Average), _optimizers, _fixedLatents.Z, _game.Parts, new CheckpointState
        {
            Model = _game.Model.Name,
            ConfigYaml = _config.ToYaml(),
            Step = _ctx.Step,
            Epoch = _epoch,
            DataEpoch = dataEpoch,
            DataBatch = dataBatch,
            NoiseRng = _ctx.Noise.GetState(),
            LabelRng = _ctx.LabelNoise.GetState(),
            Monitors = _monitors.GetState(),
            ImageShape = _game.Model.ImageShape,
            LatentDim = _game.Model.LatentDim,
        });
        _savedStep = _ctx.Step;
    }

    /// <summary>Writes a grid of samples from the fixed noise (generator in eval mode), or the game's preview of its fixed batch.</summary>
    public void SaveGrid(string path)
    {
        if (_game.Preview is { } preview)
        {
            var modes = _game.Model.Networks.Select(n => (n.Value, n.Value.Training)).ToList();
            foreach (var (m, _) in modes) m.Eval();
            Tensor rows;
            try { using (GradMode.NoGrad()) rows = preview.Render(_game.Model, _previewBatch!); }
            finally { foreach (var (m, was) in modes) m.Train(was); }
            Data.ImageGrid.Save(path, rows, new Data.ImageGridOptions { NRow = preview.Columns });
            return;
        }
        var g = SamplingGenerator;
        bool wasTraining = g.Training;
        g.Eval();
        Tensor images;
        using (GradMode.NoGrad()) images = _game.Model.Generate(_fixedLatents, g);
        g.Train(wasTraining);
        Data.ImageGrid.Save(path, images, new Data.ImageGridOptions { NRow = 8 });
    }
}
