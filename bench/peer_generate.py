#!/usr/bin/env python3
"""Extra PyTorch peer figures beside /work/shared/bench/pytorch_peer.py and bench/peer_zoo.py (which it imports,
unchanged): generation alone (G forward, eval mode, torch.no_grad(), batch 256) and the peak resident memory (VmHWM) of a
training run, for every bench workload. Prints JSON lines like the GanForge bench. Run one workload a process for memory
(generation's lines carry the process's peak so far too: the generation's own with one workload).
Usage: /usr/bin/python3 bench/peer_generate.py --peer PATH [--zoo PATH] [--threads N] [--iters N] [--mode generate|memory]
       [--workloads dcgan28,dcgan64,mlpgan,wgangp28,cyclegan32,stylegan32,transgan32]
"""
import argparse, importlib.util, json, os, time
import torch


def load_peer(path, name="pytorch_peer"):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def vm_hwm_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024 * 1.048576  # kB -> MB (1e6 bytes)
    return -1


def generator(peer, zoo, name):
    """The workload's generator and its input for n samples, from the shared peer or the zoo's."""
    if name in peer.WORKLOADS:
        g, _, _, _, _, noise = peer.WORKLOADS[name]()
        return g, noise
    if name in zoo.GENERATORS:
        return zoo.GENERATORS[name]()
    raise SystemExit(f"peer_generate: unknown workload '{name}'; known: {', '.join([*peer.WORKLOADS, *zoo.GENERATORS])}")


GENERATION_SECONDS = 0.5


def generate(peer, zoo, name, iters, warmup):
    g, noise = generator(peer, zoo, name)
    g.eval()
    times = []
    with torch.no_grad():
        # as the GanForge bench: warm-up and timing each at least GENERATION_SECONDS as well as their counts
        start, i = time.perf_counter(), 0
        while i < warmup or time.perf_counter() - start < GENERATION_SECONDS:
            g(noise(256))
            i += 1
        start = time.perf_counter()
        while len(times) < iters or time.perf_counter() - start < GENERATION_SECONDS:
            z = noise(256)
            t = time.perf_counter()
            g(z)
            times.append(time.perf_counter() - t)
    times.sort()
    med = times[len(times) // 2]
    # the process's peak resident memory so far: the generation's own where the process generates one workload
    return {"workload": name + "-generate", "threads": torch.get_num_threads(), "batch": 256, "images_per_s": round(256 / med, 1),
            "timed_calls": len(times), "peak_working_set_mb": round(vm_hwm_mb())}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", default="/work/shared/bench/pytorch_peer.py")
    ap.add_argument("--zoo", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_zoo.py"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--mode", default="generate", choices=["generate", "memory"])
    ap.add_argument("--workloads", default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    peer, zoo = load_peer(a.peer), load_peer(a.zoo, "peer_zoo")
    if a.mode == "generate":
        for w in (a.workloads or "dcgan28,dcgan64").split(","):
            print(json.dumps(generate(peer, zoo, w, a.iters, a.warmup)), flush=True)
    else:
        for w in (a.workloads or "dcgan64").split(","):
            r = (peer if w in peer.WORKLOADS else zoo).bench(w, a.iters, a.warmup)
            r["peak_working_set_mb"] = round(vm_hwm_mb())
            print(json.dumps(r), flush=True)
