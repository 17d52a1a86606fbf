using System.CommandLine;
using System.Globalization;
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
        var data = new Option<string?>("--data") { Description = "embedded (default: the Fashion-MNIST test split shipped with GanForge), fashion-mnist (Debian's dataset-fashion-mnist), or a path: IDX folder/file, PNG folder, CIFAR-10 folder" };
        var split = new Option<string?>("--split") { Description = "Fashion-MNIST split to train on: train (default) or test" };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the data (default 5)" };
        var batch = new Option<int?>("--batch-size") { Description = "Images per batch, m of Algorithm 1 (default 128)" };
        var lr = new Option<float?>("--lr") { Description = "Learning rate of every optimizer group (default: the model's, e.g. DCGAN's Adam 2e-4)" };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for initialisation, data order and noise (default 1)" };
        var outDir = new Option<string?>("--out") { Description = "Output folder (default runs/default)" };
        var k = new Option<int?>("--k") { Description = "Discriminator (critic) steps per generator step (default: the model's, 1 for DCGAN, 5 for WGAN)" };
        var loss = new Option<string?>("--loss") { Description = $"Adversarial loss: {string.Join(", ", GanLoss.Names)} (default: the model's)" };
        var optimizer = new Option<string?>("--optimizer") { Description = "adam, sgd or rmsprop for every group (default: the model's)" };
        var set = new Option<string[]>("--set")
        {
            Description = "A model option or optimizer setting, KEY=VALUE, repeatable: --set r1=10 --set mbstd=4 --set d.lr=4e-4 (`ganforge models --model NAME` lists the options)",
            AllowMultipleArgumentsPerToken = false,
        };
        var smoothing = new Option<float?>("--label-smoothing") { Description = "One-sided label smoothing: real target 1-s (e.g. 0.1)" };
        var flip = new Option<float?>("--label-flip") { Description = "Probability of flipping a discriminator label" };
        var dBatch = new Option<string?>("--d-batch") { Description = "mixed (one half-real/half-fake batch, Algorithm 1) or separate (default)" };
        var pretrain = new Option<int?>("--pretrain-ae") { Description = "Epochs of autoencoder pre-training of the generator (default 0)" };
        var size = new Option<int?>("--image-size") { Description = "Resize images to this size (the model says which it supports: 28, 32, 64, ... for DCGAN)" };
        var ema = new Option<float?>("--ema") { Description = "EMA decay of generator weights, e.g. 0.999 (default off)" };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop after this many generator steps" };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N training images" };
        var logEvery = new Option<int?>("--log-every") { Description = "Log every N generator steps (default 50)" };
        var evalEvery = new Option<int?>("--eval-every") { Description = "Log FID and class coverage every N generator steps and at each epoch's end (default 0 = off)" };
        var evalSamples = new Option<int?>("--eval-samples") { Description = "Generated images per evaluation during training (default 2000)" };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (default: all cores)" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its checkpoint" };
        var config = new Option<string?>("--config") { Description = "YAML file of settings (same keys as the run's config.yaml)" };

        var cmd = new Command("train", "Train a GAN; writes config.yaml, metrics.jsonl, sample grids and checkpoints into --out")
        {
            model, data, split, epochs, batch, lr, seed, outDir, k, loss, optimizer, smoothing, flip, dBatch,
            pretrain, size, ema, maxSteps, limit, logEvery, evalEvery, evalSamples, threads, resume, config, set,
        };
        cmd.SetAction(r => Errors.Guard(() =>
        {
            // Settings, lowest precedence first: defaults, the resumed run's own config or --config, then flags.
            bool isResume = r.GetValue(resume);
            var c = isResume
                ? Checkpoint.Read(r.GetValue(outDir) ?? new TrainConfig().Out).State.Config
                : r.GetValue(config) is { } file ? TrainConfig.FromYaml(ReadConfig(file), file) : new TrainConfig();
            void Set<T>(Option<T?> o, Action<T> apply) where T : class { if (r.GetValue(o) is { } v) apply(v); }
            void SetV<T>(Option<T?> o, Action<T> apply) where T : struct { if (r.GetValue(o) is { } v) apply(v); }
            Set(model, v => c.Model = v); Set(data, v => c.Data = v); Set(split, v => c.Split = v);
            SetV(epochs, v => c.Epochs = v); SetV(batch, v => c.BatchSize = v); SetV(lr, v => c.Lr = v);
            SetV(seed, v => c.Seed = v); Set(outDir, v => c.Out = v); SetV(k, v => c.K = v);
            Set(loss, v => c.Loss = v); Set(optimizer, v => c.Optimizer = v);
            SetV(smoothing, v => c.LabelSmoothing = v); SetV(flip, v => c.LabelFlip = v); Set(dBatch, v => c.DBatch = v);
            SetV(pretrain, v => c.PretrainAe = v); SetV(size, v => c.ImageSize = v); SetV(ema, v => c.Ema = v);
            SetV(maxSteps, v => c.MaxSteps = v); SetV(limit, v => c.Limit = v); SetV(logEvery, v => c.LogEvery = v);
            SetV(threads, v => c.Threads = v);
            SetV(evalEvery, v => c.EvalEvery = v); SetV(evalSamples, v => c.EvalSamples = v);
            foreach (var assignment in r.GetValue(set) ?? []) c.Set(assignment);
            return Train(c, isResume);
        }));
        return cmd;
    }

    static string ReadConfig(string file) => File.Exists(file)
        ? File.ReadAllText(file)
        : throw new FileNotFoundException($"--config: '{file}' not found");

    static int Train(TrainConfig userConfig, bool resume)
    {
        var trainer = TrainingSetup.Create(userConfig, resume);
        var config = trainer.Config;
        var console = AnsiConsole.Console;
        if (config.EvalEvery > 0) trainer.Evaluation = TrainingEvaluation.FashionMnist(config.EvalSamples, config.Seed);
        console.MarkupLine($"[bold]GanForge[/] training [green]{config.Model}[/] on {Markup.Escape(config.Data)} " +
                           $"({trainer.Model.ImageShape[0]}x{trainer.Model.ImageShape[1]}x{trainer.Model.ImageShape[2]}), " +
                           $"{config.Epochs} epochs, batch {config.BatchSize}, {Markup.Escape(TrainingSetup.EngineDescription)}");
        console.MarkupLine($"[grey]loss {config.Loss}, k {config.K}, " +
                           Markup.Escape(string.Join(", ", config.Optimizers.Select(o => $"{o.Key}: {o.Value}"))) +
                           (config.ModelOptions.Count > 0 ? Markup.Escape(", options " + string.Join(" ", config.ModelOptions.Select(o => $"{o.Key}={o.Value}"))) : "") + "[/]");
        console.MarkupLine(resume
            ? $"Resuming [blue]{Markup.Escape(Path.GetFullPath(config.Out))}[/] at generator step {trainer.Step}"
            : $"Writing to [blue]{Markup.Escape(Path.GetFullPath(config.Out))}[/]");
        trainer.Warning += w => console.MarkupLine($"[yellow]warning (step {w.Step}):[/] {Markup.Escape(w.Message)}");
        trainer.Info += m => console.MarkupLine($"[grey]{Markup.Escape(m)}[/]");

        if (console.Profile.Capabilities.Interactive)
        {
            console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                         new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("starting", maxValue: trainer.TotalSteps);
                    task.Value = trainer.Step;
                    trainer.Progress += p => { task.Value = p.Step; task.Description = Markup.Escape(Describe(p)); };
                    trainer.Run();
                });
        }
        else
        {
            trainer.Progress += p => console.WriteLine(Describe(p));
            trainer.Run();
        }
        var report = RunReport.Write(config.Out);
        console.MarkupLine($"[green]done[/]: report in {Markup.Escape(report)}, samples in {Markup.Escape(Path.Combine(config.Out, "samples.png"))}, " +
                           $"checkpoint in {Markup.Escape(Path.Combine(config.Out, Checkpoint.FileName))}");
        return 0;
    }

    /// <summary>One console line: every logged statistic the registry knows, in its order and with its label.</summary>
    static string Describe(TrainProgress p)
    {
        var parts = new List<string> { $"epoch {Math.Min(p.Epoch + 1, p.Epochs)}/{p.Epochs} step {p.Step}/{p.TotalSteps}" };
        foreach (var stat in Stats.All)
            if (stat != Stats.ImagesPerSecond && p.Stats.TryGetValue(stat.Name, out var v))
                parts.Add($"{stat.Label} {(stat.Percent ? v.ToString("P0", CultureInfo.InvariantCulture) : v.ToString("F3", CultureInfo.InvariantCulture))}");
        parts.Add($"{p.ImagesPerSecond:F0} img/s");
        return string.Join(" | ", parts);
    }
}
