using GanForge.Gan.Training;

namespace GanForge.Gan.Tests;

/// <summary>
/// The fuzz harness's regression corpus for checkpoints and settings files: each file loads, or is refused with one
/// clean line naming it. A checkpoint is read as `sample` reads it and then resumed into a trainer of its model, as
/// `train --resume` does (tools/fuzz/GanForge.Fuzz/Targets.cs does the same).
/// </summary>
public class FuzzCorpusTests(FuzzCorpusTests.Trainers trainers) : IClassFixture<FuzzCorpusTests.Trainers>
{
    /// <summary>A trainer per model of the checkpoint seeds, built from the seed's own settings.</summary>
    public sealed class Trainers : IDisposable
    {
        readonly string _dir = Path.Combine(Path.GetTempPath(), "ganforge-fuzz-corpus-" + Guid.NewGuid().ToString("N"));
        readonly Dictionary<string, Trainer> _byModel = [];

        public Trainers()
        {
            foreach (var seed in Directory.GetFiles(Path.Combine(Fixtures.Root, "fuzz", "checkpoint", "seeds")))
            {
                var state = Checkpoint.Read(seed).State;
                if (_byModel.ContainsKey(state.Model)) continue;
                var config = state.Config;
                config.Out = Path.Combine(_dir, state.Model);
                _byModel[state.Model] = TrainingSetup.Create(config, resume: false);
            }
        }

        public Trainer? For(string model) => _byModel.GetValueOrDefault(model);

        public void Dispose()
        {
            foreach (var t in _byModel.Values) t.Dispose();
            if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
        }
    }

    public static TheoryData<string, string> Corpus => FuzzCorpus.Files("checkpoint", "yaml");

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Read_FuzzCorpusFile_LoadsOrFailsWithOneCleanLine(string reader, string file)
    {
        if (reader == "yaml")
        {
            // Settings errors found after parsing name the option, not the file; parse errors name the file.
            FuzzCorpus.Check(file, p =>
            {
                var config = TrainConfig.FromYaml(File.ReadAllText(p), p);
                config.Validate();
                config.Resolve().Validate();
            }, e => e.InnerException is YamlDotNet.Core.YamlException);
            return;
        }
        FuzzCorpus.Check(file, p =>
        {
            var sampler = Sampler.Load(p);
            if (trainers.For(sampler.State.Model) is not { } trainer) return;
            trainer.Resume(p);
            var saved = sampler.State.Config;
            if (saved.Channels == 0) saved.Channels = trainer.Config.Channels;   // as TrainingSetup reads runs saved before channels were recorded
            ResumeSettings.Compare(saved, trainer.Config, sampler.State.Step);
        }, e => !e.Message.StartsWith("--resume: ", StringComparison.Ordinal));
    }
}
