namespace GanForge.Gan.Tests;

/// <summary>
/// Tests that set the engine's thread count (<c>TrainConfig.Threads</c> sets <c>Threading.Threads</c> for the whole
/// process) or the convolutions' precision (<c>TrainConfig.Precision</c>, <c>Precision.Current</c>, likewise). They run in
/// this collection, alone, after the parallel tests: a product split over another number of threads may round differently,
/// so a resume test running beside them could see its two halves computed on different thread counts and differ in the
/// last bit.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideThreads
{
    public const string Name = "process-wide thread count";
}
