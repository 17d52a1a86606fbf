using GanForge.Data;
using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using GanForge.Distributed;
using GanForge.Gan;
using GanForge.Gan.Losses;
using GanForge.Gan.Zoo;
using GanForge.Gan.Training;
using GanForge.Metrics.Evaluation;
using GanForge.Metrics.Report;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>`ganforge train`: flags override a --config file, which overrides the defaults.</summary>
static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model")
        {
            Description = "Model (default dcgan; `ganforge models` describes each): " + string.Join(", ", ModelZoo.Names),
        };
        var data = new Option<string?>("--data")
        {
            Description = "embedded (default: the Fashion-MNIST test split shipped with GanForge), fashion-mnist (Debian's dataset-fashion-mnist), " +
                          "or a path: IDX folder/file, CIFAR-10 binary folder, or a folder of JPEG/PNG/BMP/GIF images (class subfolders keep their labels)",
        };
        var split = new Option<string?>("--split") { Description = "Fashion-MNIST split to train on: train (default) or test" };
        var pairs = new Option<string?>("--pairs") { Description = "Image-to-image pairs of --data for pix2pix, unet-l1, dagan, srresnet, srgan: " + DataSpec.PairsHelp };
        var domainA = new Option<string?>("--domain-a") { Description = "cyclegan: domain A, any data spec (fashion-mnist:class=7, a folder of images)" };
        var domainB = new Option<string?>("--domain-b") { Description = "cyclegan: domain B, any data spec" };
        var scale = NumberOptions.Optional<int>("--scale", "srresnet, srgan: the upscaling factor, 2, 4 (default) or 8; the inputs are the pairs downscale:S (each S x S block averaged)");
        var epochs = NumberOptions.Optional<int>("--epochs", $"Passes over the data (default {new TrainConfig().Epochs})");
        var batch = NumberOptions.Optional<int>("--batch-size", $"Images per batch, m of Algorithm 1 (default {new TrainConfig().BatchSize})");
        var lr = NumberOptions.Optional<float>("--lr", "Learning rate of every optimizer group (default: the model's, e.g. DCGAN's Adam 2e-4)");
        var seed = NumberOptions.Optional<ulong>("--seed", "Seed for initialisation, data order and noise (default 1)");
        var outDir = new Option<string?>("--out") { Description = "Output folder (default runs/default)" };
        var k = NumberOptions.Optional<int>("--k", "Discriminator (critic) steps per generator step (default: the model's, 1 for DCGAN, 5 for WGAN)");
        var loss = new Option<string?>("--loss") { Description = $"Adversarial loss: {string.Join(", ", GanLoss.Names)} (default: the model's)" };
        var optimizer = new Option<string?>("--optimizer") { Description = "adam, sgd or rmsprop for every group (default: the model's)" };
        var set = new Option<string[]>("--set")
        {
            Description = "A model option or optimizer setting, KEY=VALUE, repeatable: --set r1=10 --set mbstd=4 --set d.lr=4e-4 (`ganforge models --model NAME` lists the options)",
            AllowMultipleArgumentsPerToken = false,
        };
        var smoothing = NumberOptions.Optional<float>("--label-smoothing", "One-sided label smoothing: real target 1-s (e.g. 0.1)");
        var flip = NumberOptions.Optional<float>("--label-flip", "Probability of flipping a discriminator label");
        var dBatch = new Option<string?>("--d-batch") { Description = "mixed (one half-real/half-fake batch, Algorithm 1) or separate (default)" };
        var pretrain = NumberOptions.Optional<int>("--pretrain-ae", "Epochs of autoencoder pre-training of the generator (default 0)");
        var size = NumberOptions.Optional<int>("--image-size",
            "Centre-crop images to squares and resize them to N x N, antialiased bilinear (the model says which sizes it supports: 28, 32, 64, ... for DCGAN)");
        var channels = NumberOptions.Optional<int>("--channels", "1 (gray) or 3 (RGB): convert the images (default: the data's own; an image folder is RGB when any image has colour)");
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip image files that cannot be read, and count them, instead of stopping at the first" };
        var latentDim = NumberOptions.Optional<int>("--latent-dim", "Size of the latent vector z (default 100)");
        var ema = NumberOptions.Optional<float>("--ema", $"EMA decay of generator weights, used for samples; 0 = off (default {new TrainConfig().Ema})");
        var maxSteps = NumberOptions.Optional<int>("--max-steps", "Stop after this many generator steps");
        var limit = NumberOptions.Optional<int>("--limit", "Use only the first N training images");
        var logEvery = NumberOptions.Optional<int>("--log-every", "Log every N generator steps (default 50)");
        var evalEvery = NumberOptions.Optional<int>("--eval-every", "Log FID and class coverage every N generator steps and at each epoch's end, against the run's own data, which must be 1x28x28 as Fashion-MNIST (default 0 = off)");
        var evalSamples = NumberOptions.Optional<int>("--eval-samples", "Generated images per evaluation during training (default 2000)");
        var sampleEvery = NumberOptions.Optional<int>("--sample-every", "Also write a sample grid every N generator steps, samples/step_NNNNNNN.png (default 0: at each epoch's end only)");
        var checkpointEvery = NumberOptions.Optional<int>("--checkpoint-every", "Also save a checkpoint every N generator steps (default 0: every --checkpoint-minutes)");
        var checkpointMinutes = NumberOptions.Optional<double>("--checkpoint-minutes",
            $"Also save a checkpoint after this many minutes of training since the last (default {TrainConfig.DefaultCheckpointMinutes:0} without --checkpoint-every, else 0 = off)");
        var threads = NumberOptions.Optional<int>("--threads", "Worker threads (default: all cores)");
        var precision = new Option<string?>("--precision")
        {
            Description = "fp32 (default) or bf16: convolutions read bfloat16 inputs and accumulate in fp32 (oneDNN; needs AVX512-BF16). " +
                          "Fully connected layers, weights, optimizer state and losses stay fp32. A resumed run keeps its own unless given",
        };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its checkpoint" };
        var config = new Option<string?>("--config") { Description = "YAML file of settings (same keys as the run's config.yaml)" };
        var distributed = new Option<string?>("--distributed")
        {
            Description = "mpi: train data-parallel with the processes mpirun started, each on an equal share of every --batch-size batch " +
                          "(mpirun -np N ganforge train ... --distributed mpi; docs/distributed.md); none (default)",
        };
        var syncBn = new Option<bool>("--sync-batchnorm")
        {
            Description = "With --distributed: batch norm normalises by the statistics of the whole global batch (every rank's rows), not each rank's share (the default, as PyTorch DDP)",
        };

        var cmd = new Command("train", "Train a GAN; writes config.yaml, metrics.jsonl, sample grids and checkpoints into --out")
        {
            model, data, split, pairs, domainA, domainB, scale, epochs, batch, lr, seed, outDir, k, loss, optimizer, smoothing, flip, dBatch,
            pretrain, size, channels, skipBad, latentDim, ema, maxSteps, limit, logEvery, evalEvery, evalSamples, sampleEvery, checkpointEvery, checkpointMinutes, threads,
            precision, resume, config, set, distributed, syncBn,
        };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            // mpirun relays each rank's output from a pseudo-terminal of its own, 80 columns wide: lines are not wrapped
            // there (the user's terminal wraps them, and logs keep them whole).
            if (MpiLauncher.Detect() != null) AnsiConsole.Console.Profile.Width = 10_000;
            using var group = MpiLauncher.StartGroup(r.GetValue(distributed));
            return group == null ? Body(r, null) : AsRank(group, () => Body(r, group));
        }));
        return cmd;

        int Body(ParseResult r, MpiProcessGroup? group)
        {
            // Settings, lowest precedence first: defaults, the resumed run's own config or --config, then flags.
            bool isResume = r.GetValue(resume);
            var resumeDir = r.GetValue(outDir) ?? new TrainConfig().Out;
            if (isResume && group == null) RunLock.ThrowIfHeld(resumeDir);   // a run still going: say so, whatever its folder holds yet
            var c = isResume
                ? TrainingSetup.SavedConfig(resumeDir, group)
                : r.GetValue(config) is { } file ? TrainConfig.FromYaml(ReadConfig(file), file) : new TrainConfig();
            void Set<T>(Option<T?> o, Action<T> apply) where T : class { if (r.GetValue(o) is { } v) apply(v); }
            void SetV<T>(Option<T?> o, Action<T> apply) where T : struct { if (r.GetValue(o) is { } v) apply(v); }
            Set(model, v => c.Model = v); Set(data, v => c.Data = v); Set(split, v => c.Split = v);
            Set(pairs, v => c.Pairs = v); Set(domainA, v => c.DomainA = v); Set(domainB, v => c.DomainB = v); SetV(scale, v => c.Scale = v);
            SetV(epochs, v => c.Epochs = v); SetV(batch, v => c.BatchSize = v); SetV(lr, v => c.Lr = v);
            SetV(seed, v => c.Seed = v); Set(outDir, v => c.Out = v); SetV(k, v => c.K = v);
            Set(loss, v => c.Loss = v); Set(optimizer, v => c.Optimizer = v);
            SetV(smoothing, v => c.LabelSmoothing = v); SetV(flip, v => c.LabelFlip = v); Set(dBatch, v => c.DBatch = v);
            SetV(pretrain, v => c.PretrainAe = v); SetV(size, v => c.ImageSize = v); SetV(channels, v => c.Channels = v);
            if (r.GetValue(skipBad)) c.SkipBad = true; SetV(latentDim, v => c.LatentDim = v); SetV(ema, v => c.Ema = v);
            SetV(maxSteps, v => c.MaxSteps = v); SetV(limit, v => c.Limit = v); SetV(logEvery, v => c.LogEvery = v);
            SetV(threads, v => c.Threads = v); Set(precision, v => c.Precision = v);
            SetV(evalEvery, v => c.EvalEvery = v); SetV(evalSamples, v => c.EvalSamples = v);
            SetV(sampleEvery, v => c.SampleEvery = v); SetV(checkpointEvery, v => c.CheckpointEvery = v); SetV(checkpointMinutes, v => c.CheckpointMinutes = v);
            if (r.GetValue(syncBn)) c.SyncBatchnorm = true;
            foreach (var assignment in r.GetValue(set) ?? []) c.Set(assignment);
            return Train(c, isResume, group);
        }
    }

    /// <summary>
    /// Runs one rank's part of a data-parallel command. Rank 0 alone prints; another rank prints only an error of its
    /// own, named by its rank. A failure while setting up is agreed between the ranks (the failing rank says why, the
    /// others stop quietly); one while training, other than a diverged loss (which every rank sees alike), aborts the
    /// job, since the others would wait for this rank in the next allreduce.
    /// </summary>
    static int AsRank(MpiProcessGroup group, Func<int> body)
    {
        if (group.Rank > 0) Errors.Source = $"rank {group.Rank}: ";
        try { return body(); }
        catch (PeerFailedException) when (group.Rank > 0)
        {
            // The rank that failed says why and exits; mpirun ends the whole job as soon as one process exits non-zero,
            // so leaving at once here could cut that message off before it reached the terminal (seen once in CI).
            Thread.Sleep(PeerMessageGrace);
            return 2;
        }
        catch (TrainingDivergedException) when (group.Rank > 0) { return 3; }
        catch (RankFailedException failed)
        {
            var e = failed.InnerException!;
            if (Errors.IsUserError(e)) Errors.Print(e);
            else Console.Error.WriteLine($"{Errors.Source}{e}");
            Console.Error.Flush();
            group.Abort(Errors.IsUserError(e) ? 2 : 1);
            return 1;
        }
    }

    /// <summary>How long a quiet rank waits, after a peer failed while setting up, before it exits.</summary>
    static readonly TimeSpan PeerMessageGrace = TimeSpan.FromSeconds(3);

    /// <summary>A rank's failure while training: it must end the job (<see cref="AsRank"/>).</summary>
    sealed class RankFailedException(Exception inner) : Exception(inner.Message, inner);

    static string ReadConfig(string file) => File.Exists(file)
        ? File.ReadAllText(file)
        : throw new FileNotFoundException($"--config: '{file}' not found");

    static int Train(TrainConfig userConfig, bool resume, MpiProcessGroup? group)
    {
        using var trainer = TrainingSetup.Create(userConfig, resume, group);
        var config = trainer.Config;
        // Rank 0 speaks for every rank; the others print nothing but their own errors.
        var console = trainer.IsRoot ? AnsiConsole.Console
            : AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Interactive = InteractionSupport.No });
        if (config.EvalEvery > 0) trainer.Evaluation = TrainingEvaluation.ForData(config.Data, config.EvalSamples, config.Seed, TrainingSetup.DataOptions(config));
        string trainedOn = config.DomainA != null ? $"{config.DomainA} <-> {config.DomainB}" : config.Pairs != null ? $"{config.Data} (pairs {config.Pairs})" : config.Data;
        console.MarkupLine($"[bold]GanForge[/] training [green]{config.Model}[/] on {Markup.Escape(trainedOn)} " +
                           $"({trainer.Model.ImageShape[0]}x{trainer.Model.ImageShape[1]}x{trainer.Model.ImageShape[2]}), " +
                           $"{config.Epochs} epochs, batch {config.BatchSize}, {Markup.Escape(TrainingSetup.EngineDescription)}");
        console.MarkupLine($"[grey]loss {config.Loss}, k {config.K}, " +
                           Markup.Escape(string.Join(", ", config.Optimizers.Select(o => $"{o.Key}: {o.Value}"))) +
                           (config.ModelOptions.Count > 0 ? Markup.Escape(", options " + string.Join(" ", config.ModelOptions.Select(o => $"{o.Key}={o.Value}"))) : "") + "[/]");
        if (trainer.DataDescription.Length > 0) console.MarkupLine($"[grey]data: {Markup.Escape(trainer.DataDescription)}[/]");
        console.MarkupLine($"[grey]checkpoints at each epoch's end" +
                           (config.CheckpointEvery > 0 ? $", every {config.CheckpointEvery} steps" : "") +
                           (config.CheckpointMinutes > 0 ? $", every {config.CheckpointMinutes:0.##} minutes" : "") + "[/]");
        if (group is { Size: > 1 })
            console.MarkupLine($"[grey]data-parallel over {group.Size} MPI ranks ({Markup.Escape(group.LibraryVersion)}): " +
                               $"{config.BatchSize / group.Size} images per rank and step, batch norm {(config.SyncBatchnorm ? "over the global batch" : "per rank")}[/]");
        if (trainer.Evaluation is TrainingEvaluation evaluation)
            console.MarkupLine($"[grey]evaluation every {config.EvalEvery} steps: {Markup.Escape(evaluation.Description)}[/]");
        console.MarkupLine(resume
            ? $"Resuming [blue]{Markup.Escape(Path.GetFullPath(config.Out))}[/] at generator step {trainer.Step}"
            : $"Writing to [blue]{Markup.Escape(Path.GetFullPath(config.Out))}[/]");
        foreach (var change in config.Changes.Where(ch => ch.Step == trainer.Step && resume))
            console.MarkupLine($"[grey]changed on resuming: {Markup.Escape(change.ToString())}[/]");
        trainer.Warning += w => console.MarkupLine($"[yellow]warning (step {w.Step}):[/] {Markup.Escape(w.Message)}");
        trainer.Info += m => console.MarkupLine($"[grey]{Markup.Escape(m)}[/]");

        // SIGINT (Ctrl-C) or SIGTERM: finish the step, save a checkpoint and stop; a second signal stops at once.
        using var stop = new CancellationTokenSource();
        int signalCode = 0;
        void OnSignal(PosixSignalContext context, int code)
        {
            context.Cancel = true;
            if (Interlocked.CompareExchange(ref signalCode, code, 0) != 0) Environment.Exit(code);
            console.MarkupLine("[yellow]stopping after this step to save a checkpoint[/] (Ctrl-C again to quit at once, losing it)");
            stop.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => OnSignal(c, 130));
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => OnSignal(c, 143));

        RunOutcome outcome = RunOutcome.Finished;
        if (group is { Size: > 1 })
        {
            trainer.Progress += p => console.WriteLine(Describe(p));
            try { outcome = trainer.Run(stop.Token); }
            catch (Exception e) when (e is not TrainingDivergedException) { throw new RankFailedException(e); }
            if (!trainer.IsRoot) return outcome == RunOutcome.Cancelled ? (signalCode != 0 ? signalCode : 130) : 0;
        }
        else if (console.Profile.Capabilities.Interactive)
        {
            console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                         new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("starting", maxValue: trainer.TotalSteps);
                    task.Value = trainer.Step;
                    trainer.Progress += p => { task.Value = p.Step; task.Description = Markup.Escape(Describe(p)); };
                    outcome = trainer.Run(stop.Token);
                });
        }
        else
        {
            trainer.Progress += p => console.WriteLine(Describe(p));
            outcome = trainer.Run(stop.Token);
        }
        var report = RunReport.Write(config.Out);
        var checkpoint = Path.Combine(config.Out, Checkpoint.FileName);
        if (outcome == RunOutcome.Cancelled)
        {
            console.MarkupLine(File.Exists(checkpoint)
                ? $"[yellow]interrupted[/] at step {trainer.Step}: checkpoint in {Markup.Escape(checkpoint)}, report in {Markup.Escape(report)}"
                : "[yellow]interrupted[/] before the first step: nothing saved; run the same command again to start");
            if (File.Exists(checkpoint))   // unwrapped, whatever the console's width, so it can be copied whole
                console.Profile.Out.Writer.WriteLine($"To resume: {ResumeCommand(config.Out, config.Ranks)}");
            return signalCode != 0 ? signalCode : 130;
        }
        console.MarkupLine($"[green]done[/]: report in {Markup.Escape(report)}, samples in {Markup.Escape(Path.Combine(config.Out, "samples.png"))}, " +
                           $"checkpoint in {Markup.Escape(checkpoint)}");
        return 0;
    }

    /// <summary>The command that continues the run in <paramref name="dir"/>, as a POSIX shell takes it.</summary>
    static string ResumeCommand(string dir, int ranks) => ranks > 1
        ? $"mpirun -np {ranks} {ProgramName()} train --resume --out {Quote(Path.GetFullPath(dir))} --distributed mpi"
        : $"{ProgramName()} train --resume --out {Quote(Path.GetFullPath(dir))}";

    /// <summary>How this program was started: the ganforge command, or dotnet and its assembly.</summary>
    static string ProgramName()
    {
        var process = Environment.ProcessPath;
        var name = Path.GetFileNameWithoutExtension(process);
        if (name == "dotnet") return $"dotnet {Quote(typeof(TrainCommand).Assembly.Location)}";
        if (name != "ganforge" || process == null) return "ganforge";
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(d => d.Length > 0 && string.Equals(Path.GetFullPath(Path.Combine(d, Path.GetFileName(process))), process, StringComparison.Ordinal));
        return onPath ? "ganforge" : Quote(process);
    }

    static string Quote(string s) => s.Length > 0 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || "/._-+=:@%,".Contains(ch))
        ? s : "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>One console line: every logged statistic the registry knows, in its order and with its label.</summary>
    static string Describe(TrainProgress p)
    {
        var parts = new List<string> { $"epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.TotalSteps}" };
        foreach (var stat in Stats.All)
            if (stat != Stats.ImagesPerSecond && p.Stats.TryGetValue(stat.Name, out var v))
                parts.Add($"{stat.Label} {(stat.Percent ? v.ToString("P0", CultureInfo.InvariantCulture) : v.ToString("F3", CultureInfo.InvariantCulture))}");
        parts.Add($"{p.ImagesPerSecond:F0} img/s");
        return string.Join(" | ", parts);
    }
}
