using System.Text.Json;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;
using GanForge.NN;

namespace GanForge.Gan.Tests;

public class EvaluationHookTests
{
    sealed class CountingHook : IEvaluationHook
    {
        public List<(long Step, bool Training, bool Grad)> Calls { get; } = [];

        public IReadOnlyDictionary<string, double> Evaluate(GanModel model, Module generator, long step)
        {
            Calls.Add((step, generator.Training, GradMode.IsEnabled));
            return new Dictionary<string, double> { ["fid"] = 100.0 / step, ["classes_covered"] = 3 };
        }
    }

    [Fact]
    public void Trainer_EvalEvery3_CallsHookEveryThirdStepAndAtEpochEnds_AndLogsScores()
    {
        var dir = TestRuns.NewDir();
        try
        {
            // 128 images / batch 32 = 4 steps per epoch, 2 epochs: steps 3, 4 (epoch end), 6, 8 (epoch end).
            var config = TestRuns.Mlp(dir, limit: 128, batch: 32, epochs: 2);
            config.EvalEvery = 3;
            var trainer = TrainingSetup.Create(config, resume: false);
            var hook = new CountingHook();
            trainer.Evaluation = hook;
            trainer.Run();
            Assert.Equal([3L, 4L, 6L, 8L], hook.Calls.Select(c => c.Step));
            Assert.All(hook.Calls, c => Assert.False(c.Training || c.Grad, "the hook must see the generator in eval mode without gradients"));
            Assert.True(trainer.Model.Generator.Training, "training mode is restored after the hook");
            var logged = File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
                .Where(e => e.TryGetProperty("fid", out _)).Select(e => (e.GetProperty("step").GetInt64(), e.GetProperty("fid").GetDouble())).ToList();
            Assert.Equal([(3L, 100.0 / 3), (4L, 25.0), (6L, 100.0 / 6), (8L, 12.5)], logged, new ToleranceComparer());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Trainer_EvalEveryZero_NeverCallsHook()
    {
        var dir = TestRuns.NewDir();
        try
        {
            var config = TestRuns.Mlp(dir, limit: 64, batch: 32, epochs: 1);
            var trainer = TrainingSetup.Create(config, resume: false);
            var hook = new CountingHook();
            trainer.Evaluation = hook;
            trainer.Run();
            Assert.Empty(hook.Calls);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Config_NegativeEvalEvery_IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainConfig { EvalEvery = -1 }.Validate());
        Assert.Contains("--eval-every", e.Message);
    }

    sealed class ToleranceComparer : IEqualityComparer<(long, double)>
    {
        public bool Equals((long, double) a, (long, double) b) => a.Item1 == b.Item1 && Math.Abs(a.Item2 - b.Item2) < 1e-5;
        public int GetHashCode((long, double) x) => x.Item1.GetHashCode();
    }
}
