#!/usr/bin/env bash
# The warm-up of a fresh process under each JIT setting (docs/performance.md, "Short runs"): per workload and setting,
# ROUNDS fresh processes of `GanForge.Bench --curve` (each iteration timed from the first), one JSON line each.
# Usage: bench/warmup.sh [WORKLOADS] [ITERS] [ROUNDS]   e.g. bench/warmup.sh dcgan28,mlpgan 40 3
set -euo pipefail
cd "$(dirname "$0")/.."
workloads=${1:-dcgan28,mlpgan}
iters=${2:-40}
rounds=${3:-3}
dotnet build -c Release bench/GanForge.Bench >/dev/null
bench=bench/GanForge.Bench/bin/Release/net10.0/GanForge.Bench
# The same bench compiled ahead of time (ReadyToRun: native code in the assemblies, still tiered up by the JIT).
r2r=$(mktemp -d)
dotnet publish bench/GanForge.Bench -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$r2r" >/dev/null
settings=("default" "readytorun" "DOTNET_TieredPGO=0" "DOTNET_TieredCompilation=0" "DOTNET_TC_QuickJitForLoops=0" "DOTNET_ReadyToRun=0")
for r in $(seq "$rounds"); do
  for w in ${workloads//,/ }; do
    for s in "${settings[@]}"; do
      envs=(); [ "$s" = default ] || [ "$s" = readytorun ] || envs=("$s")
      exe=$bench; [ "$s" = readytorun ] && exe=$r2r/GanForge.Bench
      line=$(env "${envs[@]}" "$exe" --curve --workloads "$w" --threads "${THREADS:-2}" --iters "$iters")
      echo "{\"round\":$r,\"setting\":\"$s\",${line#\{}"
    done
  done
done
