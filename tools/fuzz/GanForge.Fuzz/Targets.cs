using System.Buffers.Binary;
using System.IO.Compression;
using GanForge.Data;
using GanForge.Data.Formats;
using GanForge.Gan;
using GanForge.Gan.Training;
using GanForge.Serialization;

namespace GanForge.Fuzz;

/// <summary>
/// A reader of users' files under fuzzing: its name (also the folder of its seeds and regression corpus under
/// tests/fixtures/fuzz), its public entry point, the layers that mutate its inputs, and the most it may allocate
/// for an input (what the input's real size justifies).
/// </summary>
/// <param name="Load">Reads the file at the path the way the command line does; throws to reject it.</param>
/// <param name="Budget">Bytes the read may allocate for this input; more is a finding.</param>
/// <param name="ExtraSeeds">More seed files, as globs relative to tests/fixtures (fixtures other tools made).</param>
/// <param name="MustNameFile">Which rejections must name the file (default all); settings errors name the option instead.</param>
public sealed record Target(string Name, Action<string> Load, (Layer Layer, int Weight)[] Layers, Func<byte[], long> Budget,
    string[]? ExtraSeeds = null, Func<Exception, bool>? MustNameFile = null);

/// <summary>
/// Every reader that takes a user's file. Adding a reader is one entry here and a folder of seeds in
/// tests/fixtures/fuzz/NAME/seeds (and the same line in the corpus test of its project).
/// </summary>
public static class Targets
{
    const long MiB = 1 << 20;

    /// <summary>Pixels the header of a JPEG, BMP or GIF claims (0 when it cannot be read): a decoder may fill them even for a short file.</summary>
    static long ImageContent(byte[] input)
    {
        try { var h = ImageFile.ReadHeader(input, "input"); return (long)h.Width * h.Height * 4; }
        catch (InvalidDataException) { return 0; }
    }

    /// <summary>What a plain read justifies: a few copies of the file, and a fixed allowance for the code's own tables.</summary>
    static long Linear(byte[] input) => 2 * MiB + 8L * input.Length;

    public static IReadOnlyList<Target> All { get; } =
    [
        new("idx", p => Idx.Read(p), [(Layers.Raw, 1)], Linear),
        new("idx-gz", p => Idx.Read(p), [(Layers.Raw, 1), (Layers.Gzip, 3)], i => 2 * MiB + 8 * (i.Length + IdxContent(i))),
        new("png", p => ImageFile.Load(p), [(Layers.Raw, 1), (Layers.Png, 3)], i => 2 * MiB + 8L * i.Length + 40 * PngContent(i),
            ExtraSeeds: ["data/png/*.png"]),
        // JPEG, BMP and GIF through the same entry point as PNG (image folders): StbImageSharp behind our checks.
        new("image", p => ImageFile.Load(p), [(Layers.Raw, 1)], i => 2 * MiB + 8L * i.Length + 40L * ImageContent(i),
            ExtraSeeds: ["data/images/*.jpg", "data/images/*.bmp", "data/images/*.gif"]),
        new("npy", p => { if (Npy.Load(p).Rank == 2) Outputs.ReadLatents(p); }, [(Layers.Raw, 1), (Layers.NpyHeader, 2)], Linear, ExtraSeeds: ["data/numpy_f4.npy"]),
        new("safetensors", p => SafeTensors.Read(p), [(Layers.Raw, 1), (Layers.SafetensorsHeader, 2)], i => 2 * MiB + 16L * i.Length,
            ExtraSeeds: ["optim/pytorch_sequential.safetensors", "optim/written_by_ganforge.safetensors", "optim/adam.safetensors"]),
        // A resume refuses settings that differ from the checkpoint's by naming the option (--resume: 'seed' is ...).
        new("checkpoint", CheckpointTarget.Load, [(Layers.Raw, 1), (Layers.Checkpoint, 4)], i => 16 * MiB + 32L * i.Length,
            MustNameFile: e => !e.Message.StartsWith("--resume: ", StringComparison.Ordinal)),
        new("yaml", ConfigTarget.Load, [(Layers.Raw, 1), (Layers.Yaml, 3)], i => 4 * MiB + 64L * i.Length,
            MustNameFile: e => e.InnerException is YamlDotNet.Core.YamlException),
        new("cifar", p => Cifar10.LoadFiles([p]), [(Layers.Raw, 1)], Linear),
    ];

    /// <summary>The gzip stream's content a reader needs: what it inflates to, but no more than its IDX header claims.</summary>
    static long IdxContent(byte[] input)
    {
        if (input.Length < 2 || input[0] != 0x1F || input[1] != 0x8B) return 0;
        try
        {
            using var gz = new GZipStream(new MemoryStream(input), CompressionMode.Decompress);
            var header = new byte[4 + 4 * 255];
            int got = gz.ReadAtLeast(header.AsSpan(0, 4), 4, throwOnEndOfStream: false);
            if (got < 4) return got;
            int ndim = header[3];
            got += gz.ReadAtLeast(header.AsSpan(4, 4 * ndim), 4 * ndim, throwOnEndOfStream: false);
            long claimed = 1;
            for (int d = 0; d < ndim && 4 + 4 * d + 4 <= got; d++)
            {
                uint size = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4 + 4 * d));
                claimed = size == 0 ? 0 : claimed > (1L << 40) / size ? 1L << 40 : claimed * size;   // saturates at 1 TiB
            }
            return got + Math.Min(claimed + 1, CountRest(gz, claimed + 1));
        }
        catch (Exception e) when (e is InvalidDataException or IOException) { return 0; }
    }

    /// <summary>The PNG's inflated image data (capped at 64 MiB): its decoded pixels may take up to 32 times that (1-bit palette to RGBA).</summary>
    static long PngContent(byte[] input)
    {
        try
        {
            using var idat = new MemoryStream();
            for (int pos = 8; pos + 12 <= input.Length;)
            {
                uint len = BinaryPrimitives.ReadUInt32BigEndian(input.AsSpan(pos));
                if (len > input.Length - pos - 12) break;
                if (input.AsSpan(pos + 4, 4).SequenceEqual("IDAT"u8)) idat.Write(input, pos + 8, (int)len);
                pos += 12 + (int)len;
            }
            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            return CountRest(z, 64 * MiB);
        }
        catch (Exception e) when (e is InvalidDataException or IOException) { return 0; }
    }

    static long CountRest(Stream s, long cap)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        try { int n; while (total < cap && (n = s.Read(buffer)) > 0) total += n; }
        catch (Exception e) when (e is InvalidDataException or IOException) { }   // IOException: ZLibException; the content ends at the damage
        return Math.Min(total, cap);
    }
}

/// <summary>
/// A training checkpoint as `sample`, `info` and `train --resume` read it: the generator loaded for sampling
/// (<see cref="Sampler.Load"/>), then every network, optimizer, noise stream and the data position restored into a
/// trainer of the same model (<see cref="Trainer.Resume(string)"/>) and the settings compared as a resume does.
/// </summary>
static class CheckpointTarget
{
    static readonly Dictionary<string, Trainer> Trainers = [];

    /// <summary>Builds, once per model, a trainer from a seed's own settings, so a fuzzed checkpoint is resumed into a sane run.</summary>
    public static void Prepare(IEnumerable<string> seeds, string work)
    {
        foreach (var seed in seeds)
        {
            var state = Checkpoint.Read(seed).State;
            if (Trainers.ContainsKey(state.Model)) continue;
            var config = state.Config;
            config.Out = Path.Combine(work, "trainer-" + state.Model);
            if (Directory.Exists(config.Out)) Directory.Delete(config.Out, recursive: true);
            Trainers[state.Model] = TrainingSetup.Create(config, resume: false);
        }
    }

    public static void Load(string path)
    {
        var sampler = Sampler.Load(path);
        if (!Trainers.TryGetValue(sampler.State.Model, out var trainer)) return;
        trainer.Resume(path);
        ResumeSettings.Compare(sampler.State.Config, trainer.Config, sampler.State.Step);
    }
}

/// <summary>A settings file as `train --config FILE` reads it: parsed, checked, and resolved against its variant.</summary>
static class ConfigTarget
{
    public static void Load(string path)
    {
        var config = TrainConfig.FromYaml(File.ReadAllText(path), path);
        config.Validate();
        config.Resolve().Validate();
    }
}
