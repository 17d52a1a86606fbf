namespace GanForge.Tests;

/// <summary>
/// Replays tests/fixtures/ops/{name}.safetensors (written by tools/fixtures/ops.py with PyTorch in float64 from
/// float32 inputs) through the matching <see cref="OpTable"/> entry: output and input gradients for a fixed
/// random upstream gradient. Keys: x0.. inputs, c0.. constants, y output, gy upstream gradient, gx0.. gradients.
/// </summary>
public class OpParityTests
{
    public static TheoryData<string> Cases => OpTable.Names(_ => true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Op_MatchesPyTorch(string name)
    {
        var op = OpTable.Get(name);
        var f = Fixtures.Load("ops", name);
        var xs = Enumerable.Range(0, op.Shapes.Length).Select(i => f[$"x{i}"]).ToArray();
        var cs = Enumerable.Range(0, 8).TakeWhile(i => f.ContainsKey($"c{i}")).Select(i => f[$"c{i}"]).ToArray();
        if (op.Differentiable) foreach (var x in xs) x.RequiresGrad = true;

        var y = op.Op(xs, cs);
        Fixtures.AssertClose(f["y"], y, op.Rtol, op.Atol, $"{name} output");
        if (!op.Differentiable)
        {
            Assert.False(y.RequiresGrad, $"{name}: output should carry no gradient");
            return;
        }
        var grads = Autograd.Grad([y], xs, [f["gy"]], allowUnused: true);
        for (int i = 0; i < xs.Length; i++)
            Fixtures.AssertClose(f[$"gx{i}"], grads[i] ?? Tensor.ZerosLike(xs[i]), op.Rtol, op.Atol, $"{name} gradient of x{i}");
    }

    [Fact]
    public void Fixtures_EachFileHasATableEntry()
    {
        var files = Directory.GetFiles(Path.Combine(Fixtures.Root, "ops"), "*.safetensors")
            .Select(Path.GetFileNameWithoutExtension).ToHashSet();
        var names = OpTable.All.Select(c => c.Name).ToHashSet();
        Assert.Empty(files.Except(names));
        Assert.Empty(names.Except(files!));
    }
}
