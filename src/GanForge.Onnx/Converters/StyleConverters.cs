using GanForge.Gan.Zoo;
using GanForge.NN;
using static GanForge.Onnx.OnnxAttribute;

namespace GanForge.Onnx;

/// <summary>
/// The style-based generator (stylegan) as one ONNX graph, in eval mode: z -> mapping -> truncation by the ψ set at
/// export -> the synthesis with the fixed noise maps -> clamp to [-1, 1]. Every layer reads the same w (z is the only
/// input). The 3 x 3 modulated convolutions are written as the engine runs them: scale the input (and upsample it, in a
/// block's first layer), Conv with the shared weight, divide by the demodulation coefficients; run-time weight scales
/// are folded into the stored weights. The toRGB layers scale their input too (the engine folds the style into a
/// per-sample 1 x 1 weight instead; the same map).
/// </summary>
static class StyleConverters
{
    public static void StyleGenerator(StyleGenerator g, OnnxLayerContext c)
    {
        var graph = c.Graph;
        string Const(string name, Tensor t) => c.Weight(name, t);
        string Node(string op, string[] inputs, params OnnxAttribute[] attributes) => graph.Node(op, inputs, null, attributes);
        string sqrt2 = Const("sqrt2", Tensor.Scalar(MathF.Sqrt(2f)));
        string Act(string x) => Node("Mul", [Node("LeakyRelu", [x], Float("alpha", 0.2f)), sqrt2]);
        string Unsqueeze23(string x) => Node("Unsqueeze", [x, graph.Int64s("axes_23", 2, 3)]);

        // mapping: pixel norm, then equalised fully connected layers
        string w = c.Input;
        int li = 0;
        foreach (var layer in g.Mapping.Layers)
        {
            switch (layer)
            {
                case PixelNorm pn:
                    var mean = Node("ReduceMean", [Node("Mul", [w, w])], Ints("axes", 1), Int("keepdims", 1));
                    w = Node("Div", [w, Node("Sqrt", [Node("Add", [mean, Const("pixelnorm_eps", Tensor.Scalar(pn.Eps))])])]);
                    break;
                case EqualLinear fc:
                    w = Node("Gemm", [w, Const($"mapping.{li}.weight", fc.Weight.Detach() * fc.WeightGain),
                        Const($"mapping.{li}.bias", fc.Bias!.Detach() * fc.LrMultiplier)], Int("transB", 1));
                    li++;
                    break;
                case ScaledLeakyReLU:
                    w = Act(w);
                    break;
                default:
                    throw c.NotSupported($"the mapping network holds a {layer.TypeName}");
            }
        }
        if (g.Truncation != 1f)   // w_avg + ψ·(w - w_avg)
        {
            string avg = Const("w_avg", g.Mapping.WAvg.Detach());
            w = Node("Add", [avg, Node("Mul", [Node("Sub", [w, avg]), Const("psi", Tensor.Scalar(g.Truncation))])]);
        }

        string scales = Const("scales_x2", Tensor.FromArray([1f, 1f, 2f, 2f]));
        string Up(string x) => Node("Resize", [x, "", scales], String("mode", "linear"), String("coordinate_transformation_mode", "half_pixel"));

        int k = 0;
        string ModConv(string x, ModulatedConv2d m)
        {
            string p = $"modconv{k++}";
            // styles s = A(w), He-scaled without demodulation: folded into A's weight and bias
            float extra = m.Demodulate ? 1f : 1f / MathF.Sqrt(m.InChannels * m.KernelSize * m.KernelSize);
            string s = Node("Gemm", [w, Const(p + ".affine.weight", m.Affine.Weight.Detach() * (m.Affine.WeightGain * extra)),
                Const(p + ".affine.bias", m.Affine.Bias!.Detach() * (m.Affine.LrMultiplier * extra))], Int("transB", 1));
            var weight = m.Weight.Detach();
            string modulated = Node("Mul", [x, Unsqueeze23(s)]);
            string y = Node("Conv", [m.Upsample ? Up(modulated) : modulated, Const(p + ".weight", weight)],
                Ints("kernel_shape", m.KernelSize, m.KernelSize), Ints("pads", m.KernelSize / 2, m.KernelSize / 2, m.KernelSize / 2, m.KernelSize / 2));
            if (!m.Demodulate) return y;
            // d_o = sqrt(Σ_i s_i² Σ_kl W_oikl² + ε); y / d
            string d = Node("Sqrt", [Node("Add", [Node("MatMul", [Node("Mul", [s, s]), Const(p + ".weight_sq_t", weight.Square().Sum([2, 3]).T.Clone())]),
                Const(p + ".eps", Tensor.Scalar(1e-8f))])]);
            return Node("Div", [y, Unsqueeze23(d)]);
        }
        string Channelwise(string name, Tensor v) => Const(name, v.Detach().Reshape(1, v.Size(0), 1, 1));
        string Layer(string x, StyleLayer l)
        {
            string y = ModConv(x, l.Conv);
            var noise = l.Noise.Strength.Detach().Reshape(1, l.Noise.Channels, 1, 1) * l.Noise.ConstNoise;   // (1,C,r,r)
            y = Node("Add", [Node("Add", [y, Const($"noise{k}", noise)]), Channelwise($"bias{k}", l.Bias)]);
            return Act(y);
        }

        string h = Const("const", g.Synthesis.Const.Detach().Unsqueeze(0));          // (1,C,4,4): broadcast by the first modulation
        string? image = null;
        foreach (var (conv0, conv1, toRgb, _) in g.Synthesis.Blocks)
        {
            if (conv0 != null) h = Layer(h, conv0);   // upsamples inside
            h = Layer(h, conv1);
            string rgb = Node("Add", [ModConv(h, toRgb.Conv), Channelwise($"rgb_bias{k}", toRgb.Bias)]);
            image = image == null ? rgb : Node("Add", [Up(image), rgb]);
        }
        graph.Node("Clip", [image!, Const("min", Tensor.Scalar(-1f)), Const("max", Tensor.Scalar(1f))], c.Output);
    }
}
