namespace GanForge.NN;

/// <summary>
/// Marks a layer whose Forward returns a new tensor (or its input, or a view of it) computed
/// from its input and its own parameters and buffers, and keeps no reference to its input or output
/// outside the autograd graph. Between two such layers a <see cref="Sequential"/> knows that the
/// intermediate tensor is used by nothing else, so its buffer can be recycled (<see cref="StoragePool"/>)
/// as soon as the graph no longer needs it. Layers outside the library (StyleGAN's activation) may say so too.
/// </summary>
public interface IPureLayer;
