using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using GanForge.Serialization;

namespace GanForge.NN.Tests.Serialization;

/// <summary>
/// Module state dicts in safetensors, both ways with PyTorch (tools/fixtures/optim.py). The layers here are
/// test-local stand-ins with PyTorch's parameter names and shapes, so the test does not depend on nn layers.
/// </summary>
public class ModuleSerializationTests : IDisposable
{
    readonly string _path = Path.Combine(Path.GetTempPath(), $"gf-module-{Guid.NewGuid():N}.safetensors");

    public void Dispose() => File.Delete(_path);

    sealed class TinyLinear : Module
    {
        public TinyLinear(int inFeatures, int outFeatures)
        {
            RegisterParameter("weight", Tensor.Zeros(outFeatures, inFeatures));
            RegisterParameter("bias", Tensor.Zeros(outFeatures));
        }
    }

    sealed class TinyBatchNorm1d : Module
    {
        public TinyBatchNorm1d(int features)
        {
            RegisterParameter("weight", Tensor.Ones(features));
            RegisterParameter("bias", Tensor.Zeros(features));
            RegisterBuffer("running_mean", Tensor.Zeros(features));
            RegisterBuffer("running_var", Tensor.Ones(features));
            RegisterBuffer("num_batches_tracked", Tensor.Scalar(0));
        }
    }

    sealed class NoParameters : Module { }

    /// <summary>Sequential(Linear(4,3), BatchNorm1d(3), ReLU(), Linear(3,2)) by PyTorch's names.</summary>
    sealed class TinySequential : Module
    {
        public TinySequential()
        {
            RegisterModule("0", new TinyLinear(4, 3));
            RegisterModule("1", new TinyBatchNorm1d(3));
            RegisterModule("2", new NoParameters());
            RegisterModule("3", new TinyLinear(3, 2));
        }

        /// <summary>Eval-mode forward written out with loops, as a reference independent of the nn layers.</summary>
        public float[,] EvalForward(Tensor x)
        {
            var s = StateDict();
            int n = x.Size(0);
            var y = new float[n, 2];
            for (int b = 0; b < n; b++)
            {
                var h = new float[3];
                for (int o = 0; o < 3; o++)
                {
                    float acc = s["0.bias"][o];
                    for (int i = 0; i < 4; i++) acc += s["0.weight"][o, i] * x[b, i];
                    float norm = (acc - s["1.running_mean"][o]) / MathF.Sqrt(s["1.running_var"][o] + 1e-5f);
                    h[o] = MathF.Max(0, norm * s["1.weight"][o] + s["1.bias"][o]);
                }
                for (int o = 0; o < 2; o++)
                {
                    float acc = s["3.bias"][o];
                    for (int i = 0; i < 3; i++) acc += s["3.weight"][o, i] * h[i];
                    y[b, o] = acc;
                }
            }
            return y;
        }
    }

    static string FixturePath(string name) => Path.Combine(Fixtures.Root, "optim", name + ".safetensors");

    [Fact]
    public void Load_PyTorchSequentialStateDict_GivesPyTorchsEvalOutput()
    {
        var net = new TinySequential();
        net.Load(FixturePath("pytorch_sequential"));
        Assert.Equal(3f, net.StateDict()["1.num_batches_tracked"].Item());

        var io = Fixtures.Load("optim", "pytorch_sequential_io");
        var y = net.EvalForward(io["input"]);
        var actual = Tensor.FromArray(y.Cast<float>().ToArray(), y.GetLength(0), y.GetLength(1));
        Fixtures.AssertClose(io["output"], actual, 1e-5, 1e-6, "Sequential eval output");
    }

    /// <summary>Fills tensor i (state-dict order) with (j + 1)·0.125 + i at element j, and num_batches_tracked with 7.</summary>
    static TinySequential DeterministicModule()
    {
        var net = new TinySequential();
        int i = 0;
        foreach (var (name, t) in net.StateDict())
        {
            var d = t.Data;
            if (name.EndsWith("num_batches_tracked")) d[0] = 7;
            else for (int j = 0; j < d.Length; j++) d[j] = (j + 1) * 0.125f + i;
            i++;
        }
        return net;
    }

    /// <summary>
    /// The committed file is what optim.py checks loads in PyTorch; regenerating it here keeps that check honest.
    /// Set GANFORGE_WRITE_FIXTURES=1 to rewrite the committed file after a deliberate format change.
    /// </summary>
    [Fact]
    public void WrittenByGanForge_Regenerated_IsByteIdenticalToCommittedFile()
    {
        var committed = FixturePath("written_by_ganforge");
        if (Environment.GetEnvironmentVariable("GANFORGE_WRITE_FIXTURES") == "1")
            DeterministicModule().Save(committed);
        DeterministicModule().Save(_path);
        Assert.True(File.Exists(committed), $"{committed} is missing: run with GANFORGE_WRITE_FIXTURES=1, then tools/fixtures/optim.py --check");
        Assert.Equal(File.ReadAllBytes(committed), File.ReadAllBytes(_path));
    }

    [Fact]
    public void Save_NumBatchesTracked_IsWrittenAsI64AndFormatPt()
    {
        DeterministicModule().Save(_path);
        var bytes = File.ReadAllBytes(_path);
        int len = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, len));
        Assert.Equal("I64", header.RootElement.GetProperty("1.num_batches_tracked").GetProperty("dtype").GetString());
        Assert.Equal("F32", header.RootElement.GetProperty("1.running_var").GetProperty("dtype").GetString());
        Assert.Equal("pt", header.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());
    }

    [Fact]
    public void SaveThenLoad_RoundTripsEveryTensor()
    {
        var source = DeterministicModule();
        source.Save(_path, new Dictionary<string, string> { ["epoch"] = "12" });
        var target = new TinySequential();
        target.Load(_path);
        foreach (var (name, t) in source.StateDict())
            Assert.Equal(t.ToArray(), target.StateDict()[name].ToArray());
        Assert.Equal("12", SafeTensors.Read(_path).Metadata["epoch"]);
    }

    [Fact]
    public void Load_MissingTensor_NamesFileAndTensor()
    {
        var state = DeterministicModule().StateDict().Where(kv => kv.Key != "1.running_var");
        SafeTensors.Save(_path, state);
        var e = Assert.Throws<ArgumentException>(() => new TinySequential().Load(_path));
        Assert.Contains(_path, e.Message);
        Assert.Contains("missing '1.running_var'", e.Message);
    }

    [Fact]
    public void Load_UnexpectedTensor_NamesIt_UnlessNotStrict()
    {
        var state = DeterministicModule().StateDict().Append(new("4.weight", Tensor.Ones(2)));
        SafeTensors.Save(_path, state);
        var e = Assert.Throws<ArgumentException>(() => new TinySequential().Load(_path));
        Assert.Contains("unexpected '4.weight'", e.Message);

        var net = new TinySequential();
        net.Load(_path, strict: false);
        Assert.Equal(0.125f + 1, net.StateDict()["0.bias"][0]);
    }

    [Fact]
    public void Load_ShapeMismatch_NamesFileTensorAndShapes()
    {
        var state = DeterministicModule().StateDict().ToDictionary();
        state["3.weight"] = Tensor.Zeros(2, 4);
        SafeTensors.Save(_path, state);
        var e = Assert.Throws<ArgumentException>(() => new TinySequential().Load(_path, strict: false));
        Assert.Contains(_path, e.Message);
        Assert.Contains("'3.weight'", e.Message);
        Assert.Contains("(2,4)", e.Message);
        Assert.Contains("(2,3)", e.Message);
    }

    [Fact]
    public void Load_WithPrefix_ReadsOneModuleOfACombinedFile()
    {
        var tensors = DeterministicModule().StateDict().Select(kv => new KeyValuePair<string, Tensor>("generator." + kv.Key, kv.Value))
            .Append(new("discriminator.weight", Tensor.Ones(1))).ToList();
        SafeTensors.Save(_path, tensors);
        var net = new TinySequential();
        net.Load(_path, prefix: "generator.");
        Assert.Equal(7f, net.StateDict()["1.num_batches_tracked"].Item());
    }

    [Fact]
    public void Int64Names_PicksNumBatchesTrackedOnly()
    {
        Assert.Equal(["bn.num_batches_tracked", "num_batches_tracked"],
            ModuleSerialization.Int64Names(["bn.num_batches_tracked", "bn.running_mean", "num_batches_tracked", "x_num_batches_tracked"]).Order());
    }
}
