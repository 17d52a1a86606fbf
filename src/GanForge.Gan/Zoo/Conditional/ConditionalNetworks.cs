using GanForge.NN;

namespace GanForge.Gan.Zoo;

/// <summary>
/// A class-conditional generator as Mirza and Osindero (2014) join the class to the noise: G(z, y) =
/// body([z, onehot(y)]), the body an unconditional generator whose input is nz + C wide.
/// </summary>
public sealed class ConditionalGenerator : ConditionalModule
{
    readonly Module _body;
    readonly int _classes;
    readonly int[] _inputShape;

    /// <param name="body">The generator proper, taking (N, <paramref name="inputShape"/>...).</param>
    /// <param name="classes">C, the number of classes; each sample's class is joined to its latent as a one-hot vector.</param>
    /// <param name="inputShape">The body's input shape per sample, nz + C first: (nz + C) or (nz + C, 1, 1).</param>
    public ConditionalGenerator(Module body, int classes, int[] inputShape)
    {
        _body = RegisterModule("body", body);
        _classes = classes;
        _inputShape = inputShape;
    }

    public override int Classes => _classes;

    /// <summary>The generator proper, which takes z joined to the one-hot class.</summary>
    public Module Body => _body;

    /// <summary>The body's input shape per sample, (nz + C) or (nz + C, 1, 1).</summary>
    public IReadOnlyList<int> InputShape => _inputShape;

    /// <summary>z (N, nz) or (N, nz, 1, 1), classes (N) -> the body's images.</summary>
    public override Tensor Forward(Tensor z, Tensor classes)
    {
        int n = z.Size(0);
        var joined = Tensor.Cat([z.Reshape(n, -1), OneHot(classes, Classes, "ConditionalGenerator")], 1);   // (N, nz + C)
        return _body.Forward(joined.Reshape([n, .. _inputShape]));
    }
}

/// <summary>
/// A class-conditional discriminator as Mirza and Osindero (2014) join the class to the input: the one-hot
/// class as C constant planes beside the image's channels, D(x, y) = body([x, onehot(y) planes]).
/// </summary>
public sealed class ConcatDiscriminator : ConditionalModule
{
    readonly Module _body;
    readonly int _classes;

    /// <param name="body">The discriminator proper, taking nc + C input channels.</param>
    /// <param name="classes">C, the number of classes; each image gets its class as C one-hot channels.</param>
    public ConcatDiscriminator(Module body, int classes)
    {
        _body = RegisterModule("body", body);
        _classes = classes;
    }

    public override int Classes => _classes;

    /// <summary>x (N, nc, H, W), classes (N) -> body((N, nc + C, H, W)).</summary>
    public override Tensor Forward(Tensor x, Tensor classes)
    {
        if (x.Rank != 4 || classes.Rank != 1 || classes.Size(0) != x.Size(0))
            throw new ArgumentException($"ConcatDiscriminator: images {Shapes.Format(x.ShapeSpan)} and classes {Shapes.Format(classes.ShapeSpan)} do not match (expected (N,C,H,W) and (N))");
        int n = x.Size(0), h = x.Size(2), w = x.Size(3);
        var planes = OneHot(classes, Classes, "ConcatDiscriminator").Reshape(n, Classes, 1, 1).Expand(n, Classes, h, w);
        return _body.Forward(Tensor.Cat([x, planes], 1));
    }
}

/// <summary>
/// The projection discriminator (Miyato and Koyama 2018): D(x, y) = ψ(φ(x)) + ⟨V·onehot(y), φ(x)⟩, with φ the
/// discriminator body up to its features, ψ a linear output and V a class embedding of the features' width.
/// </summary>
public sealed class ProjectionDiscriminator : ConditionalModule
{
    readonly Module _features;
    readonly Linear _psi;
    readonly Embedding _embed;

    /// <param name="features">φ: images -> (N, F) features (an activation last).</param>
    /// <param name="featureDim">F, the features' width.</param>
    /// <param name="classes">The number of classes (rows of V).</param>
    /// <param name="rng">Initialisation randomness of ψ and V.</param>
    public ProjectionDiscriminator(Module features, int featureDim, int classes, Generator rng)
    {
        _features = RegisterModule("features", features);
        _psi = RegisterModule("psi", new Linear(featureDim, 1, generator: rng));
        _embed = RegisterModule("embed", new Embedding(classes, featureDim, rng));
        Init.Normal(_embed.Weight, 0f, 0.02f, rng);
    }

    public override int Classes => _embed.NumEmbeddings;

    /// <summary>φ(x): (N, F).</summary>
    public Tensor Features(Tensor x) => _features.Forward(x);

    /// <summary>x (N, nc, H, W), classes (N) -> (N, 1).</summary>
    public override Tensor Forward(Tensor x, Tensor classes)
    {
        if (classes.Rank != 1 || classes.Size(0) != x.Size(0))
            throw new ArgumentException($"ProjectionDiscriminator: classes {Shapes.Format(classes.ShapeSpan)} do not match images {Shapes.Format(x.ShapeSpan)}");
        _ = OneHot(classes, Classes, "ProjectionDiscriminator");                  // checks the range
        var phi = _features.Forward(x);                                            // (N, F)
        var projection = (_embed.Forward(classes) * phi).Sum(1, keepDim: true);    // ⟨V_y, φ(x)⟩: (N, 1)
        return _psi.Forward(phi) + projection;
    }
}
