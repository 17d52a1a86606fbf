namespace GanForge.NN;

/// <summary>
/// A network that takes a class with its input (a class-conditional generator or discriminator):
/// <c>Forward(x, classes)</c>, classes (N) as integer-valued floats, like <see cref="Embedding"/>'s indices.
/// </summary>
public abstract class ConditionalModule : Module
{
    /// <summary>Number of classes the module is conditioned on.</summary>
    public abstract int Classes { get; }

    /// <summary>Applies the module to <paramref name="input"/> of the given <paramref name="classes"/> (N).</summary>
    public abstract Tensor Forward(Tensor input, Tensor classes);

    public override Tensor Forward(Tensor input) =>
        throw new ArgumentException($"{TypeName}: the module is class-conditional ({Classes} classes); call Forward(input, classes)");

    /// <summary>
    /// One-hot rows (N, <paramref name="count"/>) of class indices (N) stored as integer-valued floats; a constant
    /// (no gradient flows to the indices). An index outside [0, count) is an ArgumentException naming <paramref name="op"/>.
    /// </summary>
    public static Tensor OneHot(Tensor classes, int count, string op = "OneHot")
    {
        if (classes.Rank != 1)
            throw new ArgumentException($"{op}: classes must have shape (N), got {Shapes.Format(classes.ShapeSpan)}");
        var result = new Tensor(classes.Size(0), count);
        var c = classes.Data; var r = result.Data;
        for (int i = 0; i < c.Length; i++)
        {
            float v = c[i];
            if (!(v >= 0 && v < count) || v != MathF.Floor(v))
                throw new ArgumentException($"{op}: class {v} of sample {i} is not an integer in [0, {count})");
            r[i * count + (int)v] = 1f;
        }
        return result;
    }
}
