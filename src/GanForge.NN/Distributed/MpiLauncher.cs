using System.Globalization;

namespace GanForge.Distributed;

/// <summary>
/// What an MPI launcher tells the processes it starts, read from the environment before MPI is initialised: Open
/// MPI's mpirun sets OMPI_COMM_WORLD_SIZE and OMPI_COMM_WORLD_RANK, MPICH's Hydra (and Intel MPI) PMI_SIZE and PMI_RANK.
/// </summary>
/// <param name="Variable">The variable that gave the size.</param>
/// <param name="Size">Processes started.</param>
/// <param name="Rank">This process's rank.</param>
/// <param name="LocalSize">Processes started on this machine (to share its cores); null when the launcher does not say.</param>
public sealed record MpiLauncher(string Variable, int Size, int Rank, int? LocalSize)
{
    /// <summary>The launcher's figures, or null when no launcher started this process.</summary>
    public static MpiLauncher? Detect() => Detect(Environment.GetEnvironmentVariable);

    /// <summary>As <see cref="Detect()"/>, reading variables through <paramref name="get"/> (for tests).</summary>
    public static MpiLauncher? Detect(Func<string, string?> get)
    {
        int? Int(string name) => int.TryParse(get(name), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
        if (Int("OMPI_COMM_WORLD_SIZE") is { } ompi)
            return new("OMPI_COMM_WORLD_SIZE", ompi, Int("OMPI_COMM_WORLD_RANK") ?? 0, Int("OMPI_COMM_WORLD_LOCAL_SIZE"));
        if (Int("PMI_SIZE") is { } pmi)
            return new("PMI_SIZE", pmi, Int("PMI_RANK") ?? 0, Int("MPI_LOCALNRANKS"));
        return null;
    }

    /// <summary>The values of <c>--distributed</c>: none (one process) and mpi.</summary>
    public static IReadOnlyList<string> Modes { get; } = ["none", "mpi"];

    /// <summary>
    /// The process group <c>--distributed</c> asks for: null for "none" (or no value), MPI's for "mpi". Refuses "mpi"
    /// outside a launcher, and "none" under a launcher that started several processes (each would train alone).
    /// </summary>
    /// <exception cref="ArgumentException">An unknown mode, or a mode that does not fit how the process was started.</exception>
    /// <exception cref="InvalidOperationException">MPI cannot be started (<see cref="MpiProcessGroup.Start"/>).</exception>
    public static MpiProcessGroup? StartGroup(string? mode)
    {
        mode = (mode ?? "none").Trim().ToLowerInvariant();
        if (!Modes.Contains(mode)) throw new ArgumentException($"Unknown --distributed '{mode}'. Known: {string.Join(", ", Modes)}");
        var launcher = Detect();
        if (mode == "none")
        {
            if (launcher is { Size: > 1 })
                throw new ArgumentException($"this is rank {launcher.Rank} of {launcher.Size} processes started by mpirun ({launcher.Variable}), but --distributed is not given: " +
                    "each would train alone into the same --out; add --distributed mpi to train them together");
            return null;
        }
        if (launcher == null)
            throw new ArgumentException("--distributed mpi: this process was not started by mpirun (neither OMPI_COMM_WORLD_SIZE nor PMI_SIZE is set); " +
                "run it as: mpirun -np N ganforge train ... --distributed mpi");
        return MpiProcessGroup.Start();
    }

    /// <summary>This process's share of the machine's cores: all of them divided by the processes started on it.</summary>
    public int ThreadsPerProcess(int cores) => Math.Max(1, cores / Math.Max(1, LocalSize ?? 1));
}
