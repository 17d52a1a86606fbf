using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// The discriminator's last hidden layer, flattened: what feature matching matches (Salimans et al. 2016) and what
/// a linear probe reads (D as a feature extractor).
/// </summary>
public static class DiscriminatorFeatures
{
    /// <summary>
    /// Features (N, F) of <paramref name="images"/>: D's layers up to (not including) its last layer with weights;
    /// for a projection discriminator, its φ(x).
    /// </summary>
    public static Tensor Of(Module discriminator, Tensor images)
    {
        switch (discriminator)
        {
            case ProjectionDiscriminator projection:
                return projection.Features(images);
            case Sequential layers:
                int last = LastWeighted(layers);
                var x = images;
                for (int i = 0; i < last; i++) x = layers[i].Forward(x);
                return x.Reshape(x.Size(0), -1);
            default:
                throw new ArgumentException($"DiscriminatorFeatures: {discriminator.TypeName} has no layer list to read hidden features from");
        }
    }

    static int LastWeighted(Sequential layers)
    {
        for (int i = layers.Count - 1; i >= 0; i--)
            if (layers[i].Parameters().Any()) return i;
        throw new ArgumentException("DiscriminatorFeatures: the discriminator has no layer with weights");
    }
}
