using System.Diagnostics;
using GanForge.Gan;
using GanForge.Gan.Training;
using GanForge.Gan.Zoo;

namespace GanForge.Bench;

/// <summary>The benchmark workloads, built from the zoo and trained with the trainer's own phases.</summary>
static class Workloads
{
    public static readonly string[] Names = ["dcgan28", "dcgan64", "mlpgan", "wgangp28", "cyclegan32", "stylegan32", "transgan32", "sngan28", "pix2pix32", "srgan32"];

    /// <summary>
    /// The zoo model and configuration of a workload: dcgan28, wgangp28 and sngan28 share the 28-pixel networks (the
    /// critic without BatchNorm, sngan28's with spectral norm); pix2pix32 translates 32 x 32 images to 32 x 32, srgan32
    /// upscales 8 x 8 ones 4 times to 32 x 32 (the variant's default scale).
    /// </summary>
    static (string Model, int Size) Spec(string name) => name switch
    {
        "cyclegan32" => ("cyclegan", 32),
        "dcgan28" => ("dcgan", 28),
        "dcgan64" => ("dcgan", 64),
        "mlpgan" => ("gan", 28),
        "wgangp28" => ("wgan-gp", 28),
        "stylegan32" => ("stylegan", 32),
        "transgan32" => ("transgan", 32),
        "sngan28" => ("sngan", 28),
        "pix2pix32" => ("pix2pix", 32),
        "srgan32" => ("srgan", 32),
        _ => throw new ArgumentException($"Unknown workload '{name}'. Known: {string.Join(", ", Names)}"),
    };

    public static GanModel Build(string name)
    {
        var (model, size) = Spec(name);
        return ModelZoo.Create(model, new ModelSpec(Channels(name), size));
    }

    /// <summary>The image-to-image workloads translate RGB images (a user's photos at 32 x 32); the others make gray ones.</summary>
    static int Channels(string name) => IsImageToImage(name) ? 3 : 1;

    /// <summary>The workloads whose generator maps images (domain A, or pairs' inputs) to images, not latents.</summary>
    static bool IsImageToImage(string name) => name is "cyclegan32" or "pix2pix32" or "srgan32";

    /// <summary>The batch of a workload: SRGAN's paper trains on 16 crops a step, and pix2pix32 takes as many.</summary>
    public static int Batch(string name) => name switch
    {
        "dcgan28" => 128, "cyclegan32" => 4, "stylegan32" or "transgan32" => 32, "pix2pix32" or "srgan32" => 16, _ => 64,
    };

    /// <summary>The shape of one input image of an image-to-image workload: srgan32's are the 8 x 8 low-resolution images.</summary>
    static int[] InputShape(string name) => name == "srgan32" ? [3, 8, 8] : [Channels(name), Spec(name).Size, Spec(name).Size];

    /// <summary>
    /// Work of one iteration (forward + backward of the D and G steps), from BENCHMARKS.md; wgangp28: 5 critic steps with
    /// the penalty's double backward, estimated;
    /// cyclegan32: G ≈ 0.53 GMAC an image (6 ResNet blocks of 256 maps at 8 x 8 dominate), run 6 times forward (G(a), F(b),
    /// the cycles, the identities) and backward, at batch 4, plus the two PatchGANs: ≈ 80, estimated;
    /// stylegan32: about 0.42 GFLOP per image through G and as much through D (convs only), counted as G + 2 D forwards
    /// and 2 D backwards for the D step, G + D forwards and backwards for the G step, at batch 32 (the lazy R1 step, one
    /// in 16, is not in the median);
    /// transgan32: about 0.023 GFLOP per image through G and 0.015 through D (linear layers and attention products),
    /// counted as 4 G and 12 D forwards (the D step with the penalty's double backward, then the G step), at batch 32: ≈ 9, estimated;
    /// sngan28, pix2pix32 and srgan32: the multiply-adds of their convolutions and Linear layers counted by forward hooks on
    /// the peer's networks (bench/peer_zoo.py), times two, over 4 G forwards and 8 D forwards (G without a graph for the D
    /// step, then with its backward; D's two forwards and backward, then its forward and input gradient for the G step),
    /// srgan32 also 3 of the content network's: 10.5, 19.1 and 43.8 (the same count gives dcgan28 21.0).
    /// </summary>
    public static double Gflop(string name) => name switch
    {
        "dcgan28" => 23, "dcgan64" => 170, "wgangp28" => 51, "cyclegan32" => 80, "stylegan32" => 160, "transgan32" => 9,
        "sngan28" => 10.5, "pix2pix32" => 19.1, "srgan32" => 43.8, _ => 1.4,
    };

    /// <summary>
    /// The trainer of a workload: the variant's own game (its loss, critic steps, penalties and optimizers;
    /// the classic workloads use Adam 2e-4 (0.5, 0.999) and the non-saturating loss, as BENCHMARKS.md says), trained on
    /// one fixed real batch of uniform noise in [-1, 1] (seed 0), as the peer's. The paired workloads (pix2pix32, srgan32)
    /// take that batch as their targets B and a second one (seed 2) as their inputs A.
    /// </summary>
    static Trainer CreateTrainer(string name)
    {
        var real = Tensor.Uniform([Batch(name), Channels(name), Spec(name).Size, Spec(name).Size], -1f, 1f, new Generator(0));
        var (modelName, _) = Spec(name);
        // cyclegan32's domains are given as data; the workload's batches are fixed noise, so the specs are never read.
        // No generator EMA: BENCHMARKS.md's iteration is the D and G updates alone, as the peer runs them
        // (TrainConfig's default EMA of 0.99, for samples, would add a pass over G's weights to every step).
        var given = new TrainConfig { Model = modelName, BatchSize = Batch(name), Out = Path.GetTempPath(), Ema = 0 };
        if (modelName == "cyclegan") (given.DomainA, given.DomainB) = ("noise-a", "noise-b");
        if (modelName == "pix2pix") given.Pairs = "edges";   // pix2pix32's pairs are given as fixed noise; the kind is never read
        var config = given.Resolve();
        var model = Build(name);
        var domainB = modelName == "cyclegan" ? Tensor.Uniform(real.Shape, -1f, 1f, new Generator(1)) : null;
        var source = modelName is "pix2pix" or "srgan"
            ? new FixedBatch(Tensor.Uniform([Batch(name), .. InputShape(name)], -1f, 1f, new Generator(2)), target: real)
            : new FixedBatch(real, domainB);
        return new Trainer(config, TrainingSetup.CreateGame(config, model), source);
    }

    /// <summary>
    /// The least a training workload warms up, whatever its count: the JIT's tier-up of a step's code (call counting
    /// starts after 100 ms without new methods, then 30 calls each, then a background compile) took mlpgan's first
    /// 100-200 steps on the twenty-third pass's host (1.1-1.4 s of excess over its steady 4.2 ms a step), so 20 warm-up
    /// steps and 50 timed ones read 4,400-5,800 images/s where its steady speed is 12,000-15,900.
    /// </summary>
    const double WarmupSeconds = 3;

    /// <summary>Median seconds per full D + G iteration after warm-up; reports images/s = batch / median.</summary>
    public static Dictionary<string, object> Run(string name, int iters, int warmup, bool profile = false)
    {
        int batch = Batch(name);
        var trainer = CreateTrainer(name);
        var times = new List<double>();
        var cpu = new List<double>();
        var proc = Process.GetCurrentProcess();
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < warmup || warm.Elapsed.TotalSeconds < WarmupSeconds; i++) trainer.TrainStep();
        Thread.Sleep(100);   // the JIT's background compilation of the last tier-ups
        long allocatedBefore = GC.GetTotalAllocatedBytes();
        int gcBefore = GC.CollectionCount(0), gen2Before = GC.CollectionCount(2);
        var pauseBefore = GC.GetTotalPauseDuration();
        long faultsBefore = PageFaults(), missedBefore = StoragePool.MissedBytes;
        Profiler.Enabled = profile;
        Profiler.Reset();
        for (int i = 0; i < iters; i++)
        {
            var cpu0 = proc.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            trainer.TrainStep();
            Profiler.Mark("(rest of the step)");
            times.Add(sw.Elapsed.TotalSeconds);
            proc.Refresh();
            cpu.Add((proc.TotalProcessorTime - cpu0).TotalSeconds);
        }
        cpu.Sort();
        if (profile) ReportProfile($"{name} ({iters} iterations)", iters);
        times.Sort();
        double median = times[times.Count / 2];
        return new Dictionary<string, object>
        {
            ["workload"] = name, ["threads"] = Threading.Threads, ["batch"] = batch,
            ["iters_per_s"] = Math.Round(1 / median, 3), ["images_per_s"] = Math.Round(batch / median, 1),
            ["gflop_per_s"] = Math.Round(Gflop(name) / median, 1),
            ["gemm"] = GanForge.Kernels.Gemm.Backend, ["conv"] = GanForge.Kernels.Conv.Backend, ["precision"] = Precision.Name(Precision.Current) + (GanForge.Kernels.Conv.Bf16Everywhere && Precision.Current == ComputePrecision.Bf16 ? " (every kernel)" : ""),
            // CPU seconds (all threads) per iteration: a measure of work that the machine's other load disturbs less than wall time.
            ["cpu_s_per_iter"] = Math.Round(cpu[cpu.Count / 2], 3),
            ["alloc_mb_per_iter"] = Math.Round((GC.GetTotalAllocatedBytes() - allocatedBefore) / 1e6 / iters, 1),
            ["gen0_gcs_per_iter"] = Math.Round((GC.CollectionCount(0) - gcBefore) / (double)iters, 2),
            // gen-2 collections (large-object-heap ones included) and the time the GC paused the step: what the allocations cost.
            ["gen2_gcs_per_iter"] = Math.Round((GC.CollectionCount(2) - gen2Before) / (double)iters, 2),
            ["gc_pause_ms_per_iter"] = Math.Round((GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds / iters, 1),
            ["peak_working_set_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1e6, 0),
            // Pages the kernel had to map for the step (first touches of memory the GC took fresh or had given back):
            // 10.4-11.2 us each on the Zen 5 host of the forty-third pass, a virtual machine (tools/pagefault/pagefault_cost.c).
            ["page_faults_per_iter"] = faultsBefore < 0 ? "n/a" : Math.Round((PageFaults() - faultsBefore) / (double)iters, 1),
            // Poolable buffers the step allocated because the pool had none of their size: an intermediate nobody gave back.
            ["pool_missed_kb_per_iter"] = Math.Round((StoragePool.MissedBytes - missedBefore) / 1024.0 / iters, 1),
        };
    }

    /// <summary>
    /// The process's page faults so far, minor and major (fields 10 and 12 of /proc/self/stat), or -1 where there is no
    /// such file (not Linux).
    /// </summary>
    static long PageFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count the fields after its closing one.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7]) + long.Parse(fields[9]);
        }
        catch (IOException) { return -1; }
        catch (UnauthorizedAccessException) { return -1; }
    }

    /// <summary>Stops the profiler and prints its per-op table, per <paramref name="count"/> (iterations or calls), to stderr.</summary>
    static void ReportProfile(string what, int count)
    {
        Profiler.Enabled = false;
        Console.Error.WriteLine($"per-op profile of {what}:");
        Console.Error.WriteLine(Profiler.Report(count));
    }

    /// <summary>The library switches `--alternate` turns off and on: their names, setters and the library's settings.</summary>
    static readonly Dictionary<string, (Action<bool> Set, bool Default)> Switches = new()
    {
        ["park"] = (on => WorkerPool.Parks = on, true),
        ["bf16-every-kernel"] = (on => GanForge.Kernels.Conv.Bf16Everywhere = on, false),
        ["small-maps"] = (on => GanForge.Kernels.Conv.SmallMapGemms = on, GanForge.Kernels.Conv.SmallMapGemms),
        // with the AVX-512 GEMM, maps of at most 16 positions in large batches (dcgan64's 4 x 4 layer) as one GEMM over the
        // batch against oneDNN's kernels (off by default on a Zen 4, the forty-sixth pass)
        ["tiny-maps"] = (on => GanForge.Kernels.Conv.TinyMapGemms = on, GanForge.Kernels.Conv.TinyMapGemms),
        // without AVX-512, the small maps whose weights fit L2 in per-thread chunks against the one GEMM's rule (oneDNN's forward and backward-data)
        ["cached-chunks"] = (on => GanForge.Kernels.Conv.CachedChunks = on, GanForge.Kernels.Conv.CachedChunks),
        // the AVX-512 GEMM against OpenBLAS's (without AVX-512 both settings run OpenBLAS)
        ["own-gemm"] = (on => GanForge.Kernels.Gemm.PreferAvx512 = on, GanForge.Kernels.Gemm.PreferAvx512),
        // without AVX-512, oneDNN's sgemm (the default rule) against OpenBLAS's for every product
        ["dnnl-products"] = (on => GanForge.Kernels.Gemm.PreferDnnlProducts = on, GanForge.Kernels.Gemm.PreferDnnlProducts),
        // without AVX-512, every product on oneDNN's sgemm (the default since the thirty-sixth pass) against products of over 512 terms on OpenBLAS's
        ["deep-dnnl"] = (on => GanForge.Kernels.Gemm.DnnlMaxDepth = on ? int.MaxValue : 512, GanForge.Kernels.Gemm.DnnlMaxDepth > 512),
        // without AVX-512, the forward (backward-data) of maps of 17-64 positions and 2,048+ products an output as one GEMM over
        // the batch against oneDNN's (the default where AVX2 runs in 128-bit halves, the thirty-seventh pass)
        ["deep-gemm-forwards"] = (on => GanForge.Kernels.Conv.DeepGemmForwards = on, GanForge.Kernels.Conv.DeepGemmForwards),
        ["deep-gemm-backdata"] = (on => GanForge.Kernels.Conv.DeepGemmBackwardData = on, GanForge.Kernels.Conv.DeepGemmBackwardData),
        // with AVX-512, the forward, weight gradient and backward-data of layers on an image (at most four input channels,
        // D's first layer, G's last) in our kernels against oneDNN's (forward, weight gradient) and im2col + GEMM's
        // (backward-data), the forty-fourth pass
        ["image-layers"] = (on => GanForge.Kernels.Conv.ImageForwards = GanForge.Kernels.Conv.ImageWeightGrads = GanForge.Kernels.Conv.ImageBackwardData = on,
            GanForge.Kernels.Conv.ImageForwards),
        // the forward of layers of at most four output channels (cyclegan32's RGB layer) a sample at a time through each thread's
        // one-sample scratch, against the whole batch padded first (the sixty-third pass)
        ["sample-scratch"] = (on => GanForge.Kernels.DirectConv.SampleScratch = on, GanForge.Kernels.DirectConv.SampleScratch),
        // oneDNN's forwards and backward-data over large batches in runs of at most 16M input and output floats (generation's
        // 256 images; BENCH_CHUNK_M=N for N M), against the whole batch in one run (the sixty-third pass)
        ["conv-chunks"] = (on => GanForge.Kernels.ConvDnnl.ChunkFloats = on ? long.Parse(Environment.GetEnvironmentVariable("BENCH_CHUNK_M") ?? "16") << 20 : 0,
            GanForge.Kernels.ConvDnnl.ChunkFloats > 0),
        // a reflection padding and the unpadded convolution of at most four output channels after it as one op without a
        // graph (cyclegan32's RGB layer in generation), against the padded map written first (the sixty-third pass)
        ["reflect-conv"] = (on => GanForge.NN.Sequential.FuseReflectPadConv = on, GanForge.NN.Sequential.FuseReflectPadConv),
        ["image-forwards"] = (on => GanForge.Kernels.Conv.ImageForwards = on, GanForge.Kernels.Conv.ImageForwards),
        ["image-weight-grads"] = (on => GanForge.Kernels.Conv.ImageWeightGrads = on, GanForge.Kernels.Conv.ImageWeightGrads),
        ["image-backward-data"] = (on => GanForge.Kernels.Conv.ImageBackwardData = on, GanForge.Kernels.Conv.ImageBackwardData),
        // without AVX-512, the backward-data of layers of at most four input channels (G's last transposed layer) in our
        // kernel against oneDNN's (the thirty-seventh pass)
        ["few-channel-data"] = (on => GanForge.Kernels.Conv.FewChannelKernels = on, GanForge.Kernels.Conv.FewChannelKernels),
        // a pair's rows of 16-float heads copied to and from its transposed tables 16 x 16 in registers against a float at a time
        ["attention-blocks"] = (on => GanForge.Kernels.Attention.BlockTransposes = on, GanForge.Kernels.Attention.BlockTransposes),
        // the keys' and values' gradients of a last vector of a few keys (D's class token) a key at a time against as the vector (forty-sixth pass)
        ["few-keys"] = (on => GanForge.Kernels.Attention.KeysAtATime = on, GanForge.Kernels.Attention.KeysAtATime),
        // backward's probabilities and ds of those keys from columns over the queries, once a pair, against as the rest of
        // their vector in every block of four rows (fifty-ninth pass)
        ["key-columns"] = (on => GanForge.Kernels.Attention.FewKeysAsColumns = on, GanForge.Kernels.Attention.FewKeysAsColumns),
        // batch norm's writing passes on sixteen lanes against a span call a row, and its rows fetched four ahead against
        // not (fifty-third pass; the same bits either way)
        ["bn-lanes"] = (on => GanForge.Kernels.BatchNorm.OnLanes = on, GanForge.Kernels.BatchNorm.OnLanes),
        ["bn-prefetch"] = (on => GanForge.Kernels.BatchNorm.RowsAhead = on ? 4 : 0, GanForge.Kernels.BatchNorm.RowsAhead > 0),
        // heads of at most four floats (transgan32's G at 16 x 16 and 32 x 32) forward in one pass over the keys, from a bound of
        // each query's max score, against through a table of scores (the fifty-seventh pass)
        ["narrow-one-pass"] = (on => GanForge.Kernels.Attention.NarrowHeadsInOnePass = on, GanForge.Kernels.Attention.NarrowHeadsInOnePass),
        // their backward with the queries on a vector's lanes, read and written in the packed rows, against the table form
        ["narrow-backward"] = (on => GanForge.Kernels.Attention.NarrowBackwardOnLanes = on, GanForge.Kernels.Attention.NarrowBackwardOnLanes),
        // one or two queries past the last whole vector (D's class token) a row at a time against as one lane of a vector
        ["query-rows"] = (on => GanForge.Kernels.Attention.LeftoverQueriesInRows = on, GanForge.Kernels.Attention.LeftoverQueriesInRows),
        // the GELU's backward with Φ read from the forward's output (y/x) against Φ's erfc fit from x
        ["gelu-from-output"] = (on => GanForge.Kernels.GeluKernel.BackwardReadsOutput = on, GanForge.Kernels.GeluKernel.BackwardReadsOutput),
        // a transposed A (weight gradients' gᵀ) read in place by the AVX-512 GEMM, rows not 4 kB apart, against its strips packed first
        ["transposed-a-in-place"] = (on => GanForge.Kernels.GemmAvx512.TransposedInPlace = on, GanForge.Kernels.GemmAvx512.TransposedInPlace),
        // each tile of the AVX-512 GEMM's C with the next tile's lines fetched while it is made, against stored into lines not fetched
        ["prefetch-c"] = (on => GanForge.Kernels.GemmAvx512.PrefetchesC = on, GanForge.Kernels.GemmAvx512.PrefetchesC),
        // a Linear forward over many rows split over its rows, each part the swapped product (W read where it lies), against
        // over its columns (the sixtieth pass)
        ["swapped-rows"] = (on => GanForge.Kernels.Gemm.RowsForSwapped = on, GanForge.Kernels.Gemm.RowsForSwapped),
        // deep weight gradients (Aᵀ·B over 1,024+ rows into at most 64k floats) split over their depth in parts fixed by the shape, against over C
        ["depth-split"] = (on => GanForge.Kernels.Gemm.SplitsDepth = on, GanForge.Kernels.Gemm.SplitsDepth),
        // products writing 256k floats or more split over the threads however few their multiply-adds, against serial under 2M multiply-adds
        ["wide-outputs"] = (on => GanForge.Kernels.Gemm.SplitsWideOutputs = on, GanForge.Kernels.Gemm.SplitsWideOutputs),
        // a bias written into many contiguous rows by copying the rows filled so far after themselves, against a copy a row
        ["fill-by-doubling"] = (on => GanForge.Kernels.Gemm.FillsByDoubling = on, GanForge.Kernels.Gemm.FillsByDoubling),
        // a patch embedding's tokens (transgan32's D) as one Linear over the patches, against the strided convolution then a transpose
        ["patch-tokens"] = (on => GanForge.NN.Conv2d.TokensAsLinear = on, GanForge.NN.Conv2d.TokensAsLinear),
        // Linear layers of at most 16 inputs over 2,048+ rows (transgan32's G at 16 x 16 and 32 x 32 tokens) in our kernels, the
        // backward in one pass, against the AVX-512 GEMM and the bias's column sums (the forty-fifth pass)
        ["thin-linear"] = (on => GanForge.Kernels.ThinLinear.Enabled = on, GanForge.Kernels.ThinLinear.Enabled),
        // batched transposes (Permute, Transpose) in 16 x 16 tiles against a copy along the output's rows
        ["permute-tiles"] = (on => GanForge.Kernels.PermuteCopy.Tiles = on, GanForge.Kernels.PermuteCopy.Tiles),
        // without AVX-512, the forward of small maps whose weights fit L2 in per-thread chunks against oneDNN's (the default since the
        // thirty-sixth pass; the weight gradient in chunks either way)
        ["chunk-forwards"] = (on => GanForge.Kernels.Conv.CachedChunkForwards = on, GanForge.Kernels.Conv.CachedChunkForwards),
        // oneDNN's threaded sgemm for every product split over the threads (GANFORGE_GEMM=dnnl), against the default rule
        ["dnnl-gemm"] = (on => GanForge.Kernels.Gemm.PreferDnnl = on, GanForge.Kernels.Gemm.PreferDnnl),
        // products split over the threads in 2 parts a thread (BENCH_GEMM_PARTS=N: N), claimed from the pool's counter, against one
        ["gemm-parts"] = (on => GanForge.Kernels.Gemm.PartsPerThread = on ? PartsWhenOn() : 1, GanForge.Kernels.Gemm.PartsPerThread > 1),
        // e^x, tanh and the GELU on two interleaved vectors (of sixteen lanes with AVX-512, of eight without) against one
        ["paired-lanes"] = (on => GanForge.Kernels.FloatLanes.Paired = on, GanForge.Kernels.FloatLanes.Paired),
        // a normalisation and the ReLU after it as one function: training-mode batch norm, and since the sixty-first pass instance
        // norm without affine parameters in training too (cyclegan32); eval-mode batch norm as one pass in place (generation's G);
        // against the two layers
        ["norm-act"] = (on => GanForge.NN.Sequential.FuseNormActivation = on, GanForge.NN.Sequential.FuseNormActivation),
        // a Conv2d or EqualConv2d and the LeakyReLU (or StyleGAN's scaled one) after it as one function (on a layer on an image, the
        // activation applied as the kernel stores and its backward from the gradient masked a sample at a time in cache), against
        // the two layers (the fifty-fourth and fifty-fifth passes)
        ["conv-act"] = (on => GanForge.NN.Sequential.FuseConvActivation = on, GanForge.NN.Sequential.FuseConvActivation),
        // Adam's step inside the weight gradient's product (Optimizer.BackwardAndStep; GANFORGE_FUSED_STEPS=off) against backward then step
        ["fused-steps"] = (on => GanForge.Optim.Optimizer.FusesSteps = on, GanForge.Optim.Optimizer.FusesSteps),
        // a Linear layer's input gradient over a few rows in the two halves of its weight's rows, against split over its columns
        ["input-grad-halves"] = (on => GanForge.Kernels.Gemm.InputGradientInHalves = on, GanForge.Kernels.Gemm.InputGradientInHalves),
        // padding of planes up to 8,192 positions (cyclegan32's reflections) by permutes of the input plane (PadPlanes), its adjoint
        // likewise, against the index map's AVX2 gathers and scatter-add (the sixty-first pass)
        ["pad-planes"] = (on => GanForge.Kernels.PadPlanes.Enabled = on, GanForge.Kernels.PadPlanes.Enabled),
        // the backward-data of 3x3 stride-1 layers on oneDNN's Winograd from 1,024 output positions (srgan32's residual
        // blocks at batch 16), against from 2,048 (the sixty-fifth pass)
        ["winograd-data-1024"] = (on => GanForge.Kernels.ConvDnnl.WinogradDataMinPositions = on ? 1024 : 2048,
            GanForge.Kernels.ConvDnnl.WinogradDataMinPositions == 1024),
        // the backward-data and weight gradient of maps of at most 4 positions (srgan32's D at 2 x 2) as one GEMM over the batch,
        // against oneDNN's direct kernels (the sixty-fifth pass)
        ["micro-maps"] = (on => GanForge.Kernels.Conv.MicroMapGemms = on, GanForge.Kernels.Conv.MicroMapGemms),
        // a generator's last layer (many channels into at most four, stride 1) backward on ImageConv's kernels the other way round,
        // against oneDNN's backward-data and DirectConv's weight gradient (the sixty-sixth pass)
        ["flipped-image"] = (on => GanForge.Kernels.Conv.FlippedImageKernels = on, GanForge.Kernels.Conv.FlippedImageKernels),
        // 3 x 3 stride-1 layers of a batch of 16 with the batch in the lanes where the rule takes them (srgan32's residual blocks),
        // against oneDNN's Winograd and direct kernels (the sixty-seventh pass)
        ["batch-lanes"] = (on => GanForge.Kernels.Conv.BatchLaneKernels = on, GanForge.Kernels.Conv.BatchLaneKernels),
        // products of 1-2M multiply-adds split over the threads (the default since the forty-ninth pass) against run on one
        ["split-from-1m"] = (on => GanForge.Kernels.Gemm.ParallelWork = on ? 1 << 20 : 1 << 21, GanForge.Kernels.Gemm.ParallelWork == 1 << 20),
    };

    /// <summary>The middle value, or the mean of the two middle ones.</summary>
    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    static int PartsWhenOn() => int.TryParse(Environment.GetEnvironmentVariable("BENCH_GEMM_PARTS"), out var k) && k >= 1 ? k : 2;

    public static string CheckSwitch(string name) => Switches.ContainsKey(name) ? name
        : throw new ArgumentException($"--alternate {name}: expected one of {string.Join(", ", Switches.Keys)}");

    /// <summary>
    /// A switch's whole-step effect in one process: after the warm-up (both settings), <paramref name="rounds"/> rounds
    /// each run one untimed and <paramref name="steps"/> timed steps with the switch off, then on (the order reversed every
    /// other round); images/s of the median step and the quartiles of each setting, and their ratio. With
    /// <paramref name="generate"/> a step is one generation call of 256 (as <see cref="Generation"/> times it).
    /// </summary>
    public static Dictionary<string, object> Alternate(string name, string switchName, int rounds, int steps, int warmup, bool generate = false)
    {
        int batch = generate ? 256 : Batch(name);
        Action step;
        if (generate)
        {
            var (input, run) = GenerationCall(name);
            step = () => run(input());
        }
        else
        {
            var trainer = CreateTrainer(name);
            step = () => trainer.TrainStep();
        }
        var (set, library) = Switches[switchName];
        var times = new[] { new List<double>(), new List<double>() };
        var turnMedians = new[] { new List<double>(), new List<double>() };   // each turn's median step, for the paired ratios
        var warm = Stopwatch.StartNew();
        try
        {
            foreach (bool on in new[] { false, true }) { set(on); for (int i = 0; i < Math.Max(warmup, 3); i++) step(); }
            while (warm.Elapsed.TotalSeconds < WarmupSeconds) step();
            Thread.Sleep(100);
            for (int r = 0; r < rounds; r++)
                foreach (bool on in r % 2 == 0 ? new[] { false, true } : [true, false])
                {
                    set(on);
                    step();
                    var turn = new List<double>();
                    for (int i = 0; i < steps; i++)
                    {
                        var sw = Stopwatch.StartNew();
                        step();
                        turn.Add(sw.Elapsed.TotalSeconds);
                    }
                    times[on ? 1 : 0].AddRange(turn);
                    turnMedians[on ? 1 : 0].Add(Median(turn));
                }
        }
        finally { set(library); }
        double Rate(List<double> t, double q) { t.Sort(); return Math.Round(batch / t[(int)((t.Count - 1) * q)], 1); }
        double off = Rate(times[0], 0.5), on_ = Rate(times[1], 0.5);
        var roundRatios = turnMedians[0].Zip(turnMedians[1], (tOff, tOn) => tOff / tOn).ToList();
        return new Dictionary<string, object>
        {
            ["workload"] = generate ? name + "-generate" : name, ["alternate"] = switchName, ["rounds"] = rounds, ["steps_per_turn"] = steps,
            ["images_per_s_off"] = off, ["images_per_s_on"] = on_,
            ["off_q1_q3"] = new[] { Rate(times[0], 0.75), Rate(times[0], 0.25) }, ["on_q1_q3"] = new[] { Rate(times[1], 0.75), Rate(times[1], 0.25) },
            ["on_over_off"] = Math.Round(on_ / off, 3),
            // each round's on turn against its off turn (the two run back to back, so they share the host's minute)
            ["round_ratios"] = roundRatios.Select(r => Math.Round(r, 3)).ToList(),
            ["median_round_ratio"] = Math.Round(Median(roundRatios), 3), ["loadavg"] = File.ReadAllText("/proc/loadavg").Split(' ')[0],
        };
    }

    /// <summary>
    /// The warm-up curve of a fresh process: seconds of each of the first <paramref name="iters"/> iterations (no
    /// warm-up skipped), how long the process took from its start to its first step, and what the slow first
    /// iterations cost beyond the steady speed (the median of the last half): what JIT tiering adds to a short run.
    /// </summary>
    public static Dictionary<string, object> Curve(string name, int iters)
    {
        int batch = Batch(name);
        var trainer = CreateTrainer(name);
        double startToFirstStep = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds;
        var times = new List<double>();
        for (int i = 0; i < iters; i++)
        {
            var sw = Stopwatch.StartNew();
            trainer.TrainStep();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        var lastHalf = times.Skip(iters / 2).Order().ToList();
        double steady = lastHalf[lastHalf.Count / 2];
        return new Dictionary<string, object>
        {
            ["workload"] = name, ["threads"] = Threading.Threads, ["start_to_first_step_s"] = Math.Round(startToFirstStep, 2),
            ["first_iter_s"] = Math.Round(times[0], 3), ["steady_iter_s"] = Math.Round(steady, 4),
            ["excess_s"] = Math.Round(times.Sum() - iters * steady, 2),
            ["iter_s"] = times.Take(12).Select(t => Math.Round(t, 3)).ToList(),
        };
    }

    const double GenerationSeconds = 0.5;

    /// <summary>
    /// Generation alone: G forward in eval mode without a graph, batch 256 (the image-to-image workloads: translating 256
    /// images, uniform in [-1, 1], from domain A or of the pairs' input shape; the others from latents). Warm-up and timing each last at least
    /// <see cref="GenerationSeconds"/> as well as their counts: mlpgan's batch takes 2-3 ms, and 2 warm-up calls and 3 timed
    /// ones (the full runs' counts) read 88,000 images/s where 100 and 100 read 109,000-112,000 (its first calls run
    /// unoptimised code), i.e. 1.23x the peer where it is 1.5x. The peer's script times the same way.
    /// </summary>
    public static Dictionary<string, object> Generation(string name, int iters, int warmup, bool profile = false)
    {
        var (input, run) = GenerationCall(name);
        var times = new List<double>();
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < warmup || warm.Elapsed.TotalSeconds < WarmupSeconds; i++) run(input());
        Thread.Sleep(100);   // the JIT's background compilation of the last tier-ups
        Profiler.Enabled = profile;
        Profiler.Reset();
        long faultsBefore = PageFaults(), missedBefore = StoragePool.MissedBytes;
        var timing = Stopwatch.StartNew();
        while (times.Count < iters || timing.Elapsed.TotalSeconds < GenerationSeconds)
        {
            var z = input();
            var sw = Stopwatch.StartNew();
            run(z);
            times.Add(sw.Elapsed.TotalSeconds);
        }
        if (profile) ReportProfile($"{name}'s generation ({times.Count} calls of 256)", times.Count);
        times.Sort();
        double median = times[times.Count / 2];
        return new Dictionary<string, object>
        {
            ["workload"] = name + "-generate", ["threads"] = Threading.Threads, ["batch"] = 256,
            ["images_per_s"] = Math.Round(256 / median, 1), ["timed_calls"] = times.Count,
            ["page_faults_per_call"] = faultsBefore < 0 ? "n/a" : Math.Round((PageFaults() - faultsBefore) / (double)times.Count, 1),
            ["pool_missed_kb_per_call"] = Math.Round((StoragePool.MissedBytes - missedBefore) / 1024.0 / times.Count, 1),
            // the process's peak so far: generation's own where the process runs it alone (--generate-only, one workload)
            ["peak_working_set_mb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1e6, 0),
        };
    }

    /// <summary>
    /// A generation call of the workload's G in eval mode without gradients: Input draws a batch of 256 latents (the image-to-image
    /// workloads: images), Run maps them to images and, like the peer's Python when it rebinds y, gives the buffers of both back for
    /// the next call.
    /// </summary>
    static (Func<Tensor> Input, Action<Tensor> Run) GenerationCall(string name)
    {
        var model = Build(name);
        model.Generator.Eval();
        var rng = new Generator(3);
        Tensor Input()
        {
            if (!IsImageToImage(name)) return model.SampleLatent(256, rng);
            // uniform in [-1, 1], its two intermediates given back as Python frees the peer's (kept, each call would take
            // two of the pool's 3 MB buffers and leave the generator's last two layers to fault in fresh ones)
            var u = Tensor.Rand([256, .. InputShape(name)], rng);
            var scaled = u * 2f;
            u.ReturnToPool();
            var x = scaled - 1f;
            scaled.ReturnToPool();
            return x;
        }
        return (Input, z =>
        {
            using (GradMode.NoGrad()) model.Generator.Forward(z).ReturnToPool();
            z.ReturnToPool();
        });
    }

    sealed class FixedBatch(Tensor batch, Tensor? domainB = null, Tensor? target = null) : IBatchSource
    {
        public int BatchesPerEpoch => 1;
        public (int Epoch, int Batch) Position => (0, 0);
        public GanBatch Next() => new(batch, Target: target, DomainB: domainB);
        public GanBatch? Preview(int count) => Next();
        public void Seek(int epoch, int b) { }
    }
}
