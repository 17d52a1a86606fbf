namespace GanForge.NN;

/// <summary>
/// One pre-norm transformer encoder block, as torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward,
/// dropout=0, activation="gelu", batch_first=True, norm_first=True): x + SelfAttention(LayerNorm(x)), then
/// x + Linear(GELU(Linear(LayerNorm(x)))). Inputs are (N, L, E). Parameter names are PyTorch's (self_attn.*,
/// linear1, linear2, norm1, norm2), so a state dict moves between the two unchanged.
/// </summary>
/// <remarks>
/// Pre-norm (Xiong et al. 2020) rather than the original post-norm: the residual path stays an identity, so a
/// stack trains without a learning-rate warm-up; ViT and TransGAN use it. No dropout: GANs at this scale do
/// not use it and it would make the block stateful across a forward.
/// </remarks>
public sealed class TransformerEncoderLayer : Module, IPureLayer
{
    public int DModel { get; }
    public MultiheadAttention SelfAttn { get; }
    public Linear Linear1 { get; }
    public Linear Linear2 { get; }
    public LayerNorm Norm1 { get; }
    public LayerNorm Norm2 { get; }

    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward, float layerNormEps = 1e-5f, Generator? generator = null)
    {
        if (dimFeedforward <= 0)
            throw new ArgumentException($"TransformerEncoderLayer: dim_feedforward must be positive, got {dimFeedforward}");
        DModel = dModel;
        SelfAttn = RegisterModule("self_attn", new MultiheadAttention(dModel, nhead, batchFirst: true, generator: generator));
        Linear1 = RegisterModule("linear1", new Linear(dModel, dimFeedforward, generator: generator));
        Linear2 = RegisterModule("linear2", new Linear(dimFeedforward, dModel, generator: generator));
        Norm1 = RegisterModule("norm1", new LayerNorm(dModel, layerNormEps));
        Norm2 = RegisterModule("norm2", new LayerNorm(dModel, layerNormEps));
    }

    /// <summary>(N, L, E) -> (N, L, E).</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 3 || input.Size(2) != DModel)
            throw new ArgumentException($"TransformerEncoderLayer: input {Shapes.Format(input.ShapeSpan)} should be (N, L, {DModel})");
        // Every intermediate is this block's own and goes back to the pool after its last reader (Release): the block's
        // steps allocate about half of a TransGAN step's memory, with a graph or without (a generator's sampling pass).
        var h = Norm1.Forward(input);
        var attention = SelfAttn.Forward(h, h, h, needWeights: false).Output;
        Release(h);
        var x = input + attention;
        Release(attention);
        var normed = Norm2.Forward(x);
        var projected = Linear1.Forward(normed);
        Release(normed);
        var hidden = F.Gelu(projected);
        Release(projected);
        var output = Linear2.Forward(hidden);
        Release(hidden);
        var y = x + output;
        Release(x);
        Release(output);
        return y;
    }

    protected override string ExtraRepr() => $"d_model={DModel}, nhead={SelfAttn.NumHeads}, dim_feedforward={Linear1.OutFeatures}, norm_first=True";
}
