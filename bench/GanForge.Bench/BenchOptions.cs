using GanForge;

namespace GanForge.Bench;

sealed record BenchOptions(string[] Workloads, int Threads, int Iters, int Warmup, bool Compare, bool Generate, string Peer, bool Profile = false, int Rounds = 1, string[]? PeerCoreTypesOrNull = null, ComputePrecision Precision = ComputePrecision.Fp32,
    bool PeerMallocKeeps = true, string? Alternate = null, bool GenerateOnly = false)
{
    /// <summary>OpenBLAS kernel families (OPENBLAS_CORETYPE) the peer also runs with, in its command alone.</summary>
    public string[] PeerCoreTypes => PeerCoreTypesOrNull ?? [];

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions(["dcgan28", "dcgan64", "mlpgan"], Environment.ProcessorCount, 20, 3, false, false,
            FindPeer());
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--workloads" => o with { Workloads = Next().Split(',', StringSplitOptions.RemoveEmptyEntries) },
                "--threads" => o with { Threads = int.Parse(Next()) },
                "--iters" => o with { Iters = int.Parse(Next()) },
                "--warmup" => o with { Warmup = int.Parse(Next()) },
                "--compare" => o with { Compare = true },
                "--generate" => o with { Generate = true },
                "--generate-only" => o with { Generate = true, GenerateOnly = true },
                "--peer" => o with { Peer = Next() },
                "--profile" => o with { Profile = true },
                "--peer-coretype" => o with { PeerCoreTypesOrNull = Next().Split(',', StringSplitOptions.RemoveEmptyEntries) },
                "--precision" => o with { Precision = GanForge.Precision.Parse(Next()) },
                "--peer-malloc" => o with { PeerMallocKeeps = Next() switch
                {
                    "keep" => true, "default" => false,
                    var v => throw new ArgumentException($"--peer-malloc {v}: expected keep (the peer's glibc malloc keeps freed memory) or default"),
                } },
                "--alternate" => o with { Alternate = GanForge.Bench.Workloads.CheckSwitch(Next()) },
                "--rounds" => o with { Rounds = Math.Max(1, int.Parse(Next())) },
                "--kernels" or "--gemm" or "--curve" or "--winograd" or "--batch-lanes" or "--backends" or "--layouts" or "--attention" or "--adam" or "--penalty" or "--products" or "--shallow" or "--bf16-every-kernel" => o,
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: --workloads dcgan28,dcgan64,mlpgan,wgangp28,cyclegan32,stylegan32,transgan32 --threads N --iters N --warmup N [--generate | --generate-only] [--compare] [--rounds N] [--profile] [--peer path/to/pytorch_peer.py] [--peer-coretype Haswell,SkylakeX] [--peer-malloc keep|default] [--precision fp32|bf16 [--bf16-every-kernel]] [--curve] [--alternate park|bf16-every-kernel|small-maps|cached-chunks|own-gemm|dnnl-products|dnnl-gemm|norm-act|pad-planes] [--kernels [--winograd|--batch-lanes|--backends|--layouts|--attention|--adam|--penalty|--products|--shallow]] [--gemm]"),
            };
        }
        return o;
    }

    static string FindPeer()
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "..", "shared", "bench", "pytorch_peer.py");
            if (File.Exists(p)) return Path.GetFullPath(p);
            p = Path.Combine(d.FullName, "shared", "bench", "pytorch_peer.py");
            if (File.Exists(p)) return Path.GetFullPath(p);
        }
        return "../shared/bench/pytorch_peer.py";
    }
}
