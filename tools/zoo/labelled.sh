#!/usr/bin/env bash
# The figures of the labelled variants and the uses (docs/zoo.md, docs/uses.md), on the full Fashion-MNIST
# (Debian's dataset-fashion-mnist):
#   cgan, acgan: 5 epochs, then `eval --samples 10000`: FID and the evaluator's class accuracy of `sample --class K`
#   infogan: 5 epochs, then eval: code agreement (NMI, purity) of the categorical code; `sweep` grid
#   sgan at 10 and 100 labels per class, seeds 1-3, beside the same network trained on the labelled images only
#     (supervised-only): test accuracy by `classify` on the 10k test split
#   probe: D of a dcgan run at 10 and 100 labels per class, beside random D and pixels
#   augment: acgan's images added to 10 and 100 real images per class, 3 seeds, with and without the evaluator filter,
#     then more of them and the mixing ratio; then dagan's (5 epochs on same-class pairs), made from those real images
# Usage: tools/zoo/labelled.sh OUT_DIR [DCGAN_RUN] [PARTS]    (THREADS=1 and GANFORGE=path as tools/zoo/run.sh;
#        SGAN_EPOCHS sets the semi-supervised runs' length, default 2)
#        PARTS, default all: any of gans sgan probe augment dagan, so that two queues can share the work
#        (augment waits for the gans part's acgan run to be done)
# Each step writes its log under OUT_DIR and is skipped when its result is there; a stopped training resumes.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: tools/zoo/labelled.sh OUT_DIR [DCGAN_RUN]}
dcgan_run=${2:-}
parts=" ${3:-gans sgan probe augment dagan} "
ganforge=${GANFORGE:-}
if [ -z "$ganforge" ]; then
  dotnet build -c Release src/GanForge.Cli >/dev/null
  ganforge=src/GanForge.Cli/bin/Release/net10.0/ganforge
fi
threads=${THREADS:-0}
data=/usr/share/datasets/fashion-mnist
mkdir -p "$out"

train() {   # train NAME EPOCHS ARGS...: a run folder OUT/NAME, resumed if stopped
  local name=$1 epochs=$2; shift 2
  local dir="$out/$name"
  [ -f "$dir/done" ] && return 0
  local resume=()
  [ -f "$dir/checkpoint.safetensors" ] && resume=(--resume)
  local start; start=$(date +%s)
  "$ganforge" train "$@" "${resume[@]}" --threads "$threads" --data fashion-mnist --epochs "$epochs" --batch-size 128 --ema 0 --log-every 100 --out "$dir" >> "$dir.log" 2>&1
  echo $(( $(date +%s) - start )) >> "$dir/wall-pieces.txt"
  touch "$dir/done"
}

if [[ $parts == *" gans "* ]]; then
  for m in cgan acgan infogan; do
    train "$m-s1" 5 --model "$m" --seed 1
    [ -f "$out/$m-s1/eval.json" ] || "$ganforge" eval --checkpoint "$out/$m-s1" --data fashion-mnist --samples 10000 --seed 0 --json "$out/$m-s1/eval.json" > "$out/$m-s1.eval.txt" 2>&1
  done
  "$ganforge" sweep --checkpoint "$out/infogan-s1" --out "$out/infogan-sweep.png" --columns 10
  "$ganforge" sweep --checkpoint "$out/cgan-s1" --out "$out/cgan-sweep.png" --columns 10
fi

if [[ $parts == *" sgan "* ]]; then
  for n in 10 100; do
    for seed in 1 2 3; do
      for kind in sgan supervised; do
        name="$kind-n$n-s$seed"
        extra=(); [ "$kind" = supervised ] && extra=(--set supervised-only=true)
        train "$name" "${SGAN_EPOCHS:-2}" --model sgan --set labels-per-class=$n "${extra[@]}" --seed "$seed"
        [ -f "$out/$name.classify.txt" ] || "$ganforge" classify --checkpoint "$out/$name" --images "$data/t10k-images-idx3-ubyte.gz" \
          --labels "$data/t10k-labels-idx1-ubyte.gz" --out "$out/$name.labels.txt" > "$out/$name.classify.txt" 2>&1
      done
    done
  done
fi

if [[ $parts == *" probe "* ]] && [ -n "$dcgan_run" ]; then
  for n in 10 100; do
    [ -f "$out/probe-n$n.txt" ] || "$ganforge" probe --checkpoint "$dcgan_run" --labels-per-class $n --data fashion-mnist > "$out/probe-n$n.txt" 2>&1
  done
fi

if [[ $parts == *" augment "* ]]; then
  until [ -f "$out/acgan-s1/done" ]; do sleep 60; done
  for n in 10 100; do
    [ -f "$out/augment-n$n.txt" ] || "$ganforge" augment --checkpoint "$out/acgan-s1" --labels-per-class $n --generated-per-class 100 --seeds 3 > "$out/augment-n$n.txt" 2>&1
    [ -f "$out/augment-n$n-filtered.txt" ] || "$ganforge" augment --checkpoint "$out/acgan-s1" --labels-per-class $n --generated-per-class 100 --seeds 3 --min-confidence 0.9 > "$out/augment-n$n-filtered.txt" 2>&1
  done
  # The tries of the literature beyond the filter: more generated images, and the mixing ratio (docs/uses.md's table)
  for try in "10 500 0" "10 100 0.5" "10 1000 0.5" "100 500 0" "100 1000 0.5"; do
    set -- $try
    name="augment-n$1-g$2-filtered-share$3"
    [ -f "$out/$name.txt" ] || GANFORGE_THREADS=1 "$ganforge" augment --checkpoint "$out/acgan-s1" --labels-per-class "$1" \
      --generated-per-class "$2" --generated-share "$3" --seeds 3 --min-confidence 0.9 > "$out/$name.txt" 2>&1
  done
fi

if [[ $parts == *" dagan "* ]]; then
  train dagan-s1 5 --model dagan --seed 1
  for n in 10 100; do
    [ -f "$out/augment-dagan-n$n.txt" ] || "$ganforge" augment --checkpoint "$out/dagan-s1" --labels-per-class $n --generated-per-class 100 --seeds 3 > "$out/augment-dagan-n$n.txt" 2>&1
    [ -f "$out/augment-dagan-n$n-filtered.txt" ] || GANFORGE_THREADS=1 "$ganforge" augment --checkpoint "$out/dagan-s1" --labels-per-class $n --generated-per-class 100 --seeds 3 --min-confidence 0.9 > "$out/augment-dagan-n$n-filtered.txt" 2>&1
  done
fi
echo "done: $out"
