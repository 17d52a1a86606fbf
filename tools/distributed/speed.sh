#!/usr/bin/env bash
# Images/s of data-parallel training on this machine: one process with 2 threads beside `mpirun -np 2` with 1 thread
# per rank, on the benchmark workloads (dcgan28: batch 128, dcgan64: batch 64, mlpgan: batch 64; docs/performance.md).
# The machine is shared, so the two are run alternately, ROUNDS times, and compared as a ratio within each round;
# the load average before each run is printed beside it. docs/distributed.md has a run's figures.
#
#   tools/distributed/speed.sh [ROUNDS] [WORKLOADS]      e.g. tools/distributed/speed.sh 3 dcgan28,mlpgan
#
# Needs Open MPI (apt-get install openmpi-bin libopenmpi-dev) and a Release build of the CLI
# (dotnet build -c Release src/GanForge.Cli). Prints one line per run and a TSV summary.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
WORKLOADS=${2:-dcgan28,dcgan64,mlpgan}
BIN=src/GanForge.Cli/bin/Release/net10.0/ganforge
[ -x "$BIN" ] || { echo "build first: dotnet build -c Release src/GanForge.Cli" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "mpirun not found: apt-get install openmpi-bin libopenmpi-dev" >&2; exit 1; }
# Open MPI refuses root unless told (containers); harmless for other users.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# workload -> model, image size, batch, steps, log interval (the first window, with the start-up, is left out)
spec() {
  case $1 in
    dcgan28) echo "dcgan 28 128 30 10" ;;
    dcgan64) echo "dcgan 64 64 12 4" ;;
    mlpgan)  echo "gan 28 64 90 30" ;;
    *) echo "unknown workload $1" >&2; exit 1 ;;
  esac
}

# mean images/s and allreduce ms/step over the logged windows after the first
measure() {  # dir
  python3 - "$1/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"images_per_s"' in l][1:]
ips = sum(r["images_per_s"] for r in rows) / len(rows)
ar = [r["allreduce_ms"] for r in rows if "allreduce_ms" in r]
print(f"{ips:.1f} {sum(ar) / len(ar) if ar else 0:.1f}")
PY
}

printf "round\tworkload\tconfig\tload\timages_per_s\tallreduce_ms_per_step\n" > "$TMP/summary.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for w in ${WORKLOADS//,/ }; do
    read -r model size batch steps every <<< "$(spec "$w")"
    args=(train --model "$model" --image-size "$size" --batch-size "$batch" --max-steps "$steps" --epochs 1000
          --log-every "$every" --checkpoint-minutes 0 --seed 1)
    for config in 1x2 2x1; do
      out="$TMP/$w-$config-$round"
      load=$(cut -d' ' -f1 /proc/loadavg)
      if [ "$config" = 1x2 ]; then
        "$BIN" "${args[@]}" --threads 2 --out "$out" > "$out.log" 2>&1
      else
        mpirun --oversubscribe -np 2 "$BIN" "${args[@]}" --threads 1 --distributed mpi --out "$out" > "$out.log" 2>&1
      fi
      read -r ips ar <<< "$(measure "$out")"
      printf "%s\t%s\t%s\t%s\t%s\t%s\n" "$round" "$w" "$config" "$load" "$ips" "$ar" | tee -a "$TMP/summary.tsv"
    done
  done
done
echo
echo "ratio (2 ranks x 1 thread) / (1 process x 2 threads), per round:"
python3 - "$TMP/summary.tsv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = {}
for r in rows: by.setdefault((r["workload"], r["round"]), {})[r["config"]] = float(r["images_per_s"])
for (w, rnd), c in sorted(by.items()):
    print(f"{w}\tround {rnd}\t1x2 {c['1x2']:.1f}\t2x1 {c['2x1']:.1f}\tratio {c['2x1'] / c['1x2']:.2f}")
PY
