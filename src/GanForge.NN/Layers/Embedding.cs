namespace GanForge.NN;

/// <summary>A lookup table (num_embeddings, dim) initialised N(0,1); indices are integer-valued floats.</summary>
public sealed class Embedding : Module
{
    public int NumEmbeddings { get; }
    public int EmbeddingDim { get; }
    public Tensor Weight { get; }

    public Embedding(int numEmbeddings, int embeddingDim, Generator? generator = null)
    {
        NumEmbeddings = numEmbeddings; EmbeddingDim = embeddingDim;
        Weight = RegisterParameter("weight", Init.Normal(new Tensor(numEmbeddings, embeddingDim), generator: generator));
    }

    /// <summary>indices (*) -> (*, dim).</summary>
    public override Tensor Forward(Tensor input) => F.Embedding(input, ForwardParameter("weight")!);

    protected override string ExtraRepr() => $"{NumEmbeddings}, {EmbeddingDim}";
}
