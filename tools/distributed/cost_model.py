#!/usr/bin/env python3
"""The cost model of docs/distributed.md: bytes allreduced per training step and ring-allreduce time over N nodes
beside the compute time per step, for the benchmark workloads.

    python3 tools/distributed/cost_model.py [--latency-us 25] [--efficiency 0.8] [--compute dcgan28=0.9 ...]

Ring allreduce of S bytes over N nodes (Patarasuk & Yuan 2009, what Open MPI's tuned component and NCCL use for large
messages): every node sends and receives 2(N-1)/N * S bytes in 2(N-1) rounds, so
    T(N) = 2(N-1)/N * S / (efficiency * bandwidth) + 2(N-1) * latency.
A step allreduces each optimizer group's gradients once per update (D's, then G's), in float32, plus the loss.
Compute per step: seconds for one step of the global batch on one node (this machine, 2 threads), measured with
tools/distributed/speed.sh; with N nodes each computes 1/N of the batch (strong scaling: --batch-size is the global
batch). Scaling stops where compute/N falls to the allreduce time: N* = compute / T_allreduce.
"""
import argparse

# Parameters per network (float32 gradients allreduced each step), from `ganforge info` of a checkpoint (batch-norm
# statistics left out), and the global batch of each benchmark workload (docs/performance.md).
WORKLOADS = {
    #            G params,  D params, batch
    "mlpgan":  (1_486_352,   533_505,   64),
    "dcgan28": (  771_969,   138_689,  128),
    "dcgan64": (3_574_656, 2_763_520,   64),
}

def ring_seconds(size_bytes, nodes, gbit, latency_s, efficiency):
    if nodes == 1:
        return 0.0
    bandwidth = gbit * 1e9 / 8 * efficiency
    return 2 * (nodes - 1) / nodes * size_bytes / bandwidth + 2 * (nodes - 1) * latency_s

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency-us", type=float, default=25.0, help="per-message latency (TCP over Ethernet: 15-50 us)")
    ap.add_argument("--efficiency", type=float, default=0.8, help="share of the line rate a long message gets")
    ap.add_argument("--compute", nargs="*", default=[], help="WORKLOAD=SECONDS per step on one node (default: measured here)")
    args = ap.parse_args()
    # Seconds per step on this machine, one process, 2 threads, unloaded: images/s of docs/performance.md's bench run.
    compute = {"mlpgan": 64 / 4720, "dcgan28": 128 / 420, "dcgan64": 64 / 44.9}
    for item in args.compute:
        k, v = item.split("=")
        compute[k] = float(v)
    nodes = [2, 4, 8, 16, 32, 64]
    for name, (g, d, batch) in WORKLOADS.items():
        size = (g + d + 2) * 4   # both groups' gradients and a loss each
        t1 = compute[name]
        print(f"\n{name}: {g + d:,} parameters, {size / 2**20:.2f} MiB allreduced per step, batch {batch}, "
              f"compute {t1 * 1000:.0f} ms/step on one node")
        print("| Gbit/s | " + " | ".join(f"N={n}" for n in nodes) + " |")
        print("|---|" + "---|" * len(nodes))
        for gbit in (10, 25, 100):
            cells = []
            for n in nodes:
                if batch % n:
                    cells.append("-")
                    continue
                ar = ring_seconds(size, n, gbit, args.latency_us * 1e-6, args.efficiency)
                step = t1 / n + ar
                cells.append(f"{ar * 1000:.1f} ms ({t1 / step:.1f}x)")
            print(f"| {gbit} | " + " | ".join(cells) + " |")
        for gbit in (10, 25, 100):
            ar_inf = 2 * size / (gbit * 1e9 / 8 * args.efficiency)
            print(f"  {gbit} Gbit/s: compute/N equals the allreduce near N = {t1 / ar_inf:.1f}")

if __name__ == "__main__":
    main()
