#!/usr/bin/env bash
# The figures of the growing and style-based variants (docs/zoo.md, sections Styles, Growing and Transformers), on the
# full Fashion-MNIST (Debian's dataset-fashion-mnist) resized to 32 x 32:
#   dcgan, progan, stylegan, transgan at 32: EPOCHS epochs each (equal images shown), wall time in
#     NAME/wall-pieces.txt and CPU time in NAME/cpu-pieces.txt, then `eval --samples 10000` (FID, KID, precision, recall, ...)
#   dcgan at equal time: dcgan32 continued to the steps it runs in transgan's time, then progan's, then stylegan's
#     (their CPU seconds, their wall time on an idle core even when other jobs shared the machine, or their wall
#     seconds for a run without that record; dcgan32's steps per second from its own wall time), each scored
#   stylegan's truncation trade-off: samples at psi = 0.5, 0.7, 1.0 written as IDX, each scored by `eval --images`
#   stylegan's style-mixing grid and noise grid
#   projection of the first 10 test images (pixel MSE and evaluator-feature distance, against w_avg and a random w)
# Usage: tools/zoo/styles.sh OUT_DIR [PARTS]   (THREADS=1 and GANFORGE=path as tools/zoo/run.sh; EPOCHS, default 5;
#        PROGAN_PHASE, images per progan phase, default 30000, so 32 pixels is stable after 180,000 images)
#        PARTS, default all: any of dcgan progan stylegan transgan score truncation grids project walltime
#        (or walltime-transgan, walltime-progan, walltime-stylegan), so that
#        two queues can share the work (a part that needs another's run waits for its `done`); SCORE_MODELS, the
#        runs the score part scores (default all four)
# Each step writes its log under OUT_DIR and is skipped when its result is there; a stopped training resumes.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: tools/zoo/styles.sh OUT_DIR [PARTS]}
parts=" ${2:-dcgan progan stylegan transgan score truncation grids project walltime} "
ganforge=${GANFORGE:-}
if [ -z "$ganforge" ]; then
  dotnet build -c Release src/GanForge.Cli >/dev/null
  ganforge=src/GanForge.Cli/bin/Release/net10.0/ganforge
fi
threads=${THREADS:-0}
epochs=${EPOCHS:-5}
mkdir -p "$out"

train() {   # train NAME ARGS...: a run folder OUT/NAME, resumed if stopped
  local name=$1; shift
  local dir="$out/$name"
  [ -f "$dir/done" ] && return 0
  local resume=()
  [ -f "$dir/checkpoint.safetensors" ] && resume=(--resume)
  local start; start=$(date +%s)
  local TIMEFORMAT='%U %S' cpu
  cpu=$( { time "$ganforge" train "$@" "${resume[@]}" --threads "$threads" --data fashion-mnist --image-size 32 --log-every 100 \
    --out "$dir" >> "$dir.log" 2>&1; } 2>&1 )
  echo "$cpu" | awk '{ printf "%d\n", $1 + $2 }' >> "$dir/cpu-pieces.txt"
  echo $(( $(date +%s) - start )) >> "$dir/wall-pieces.txt"
  touch "$dir/done"
}

part() { [[ "$parts" == *" $1 "* ]]; }
await() {   # await NAME: until OUT/NAME/done is there (another queue trains it)
  while [ ! -f "$out/$1/done" ]; do sleep 60; done
}

score() {   # score NAME: eval of OUT/NAME's generator
  await "$1"
  [ -f "$out/$1/eval.json" ] || "$ganforge" eval --checkpoint "$out/$1" --data fashion-mnist --samples 10000 --seed 0 --json "$out/$1/eval.json" > "$out/$1.eval.txt" 2>&1
}

part dcgan && train dcgan32 --model dcgan --epochs "$epochs" --seed 1
part progan && train progan32 --model progan --epochs "$epochs" --set phase-images="${PROGAN_PHASE:-30000}" --seed 1
part stylegan && train stylegan32 --model stylegan --epochs "$epochs" --seed 1
part transgan && train transgan32 --model transgan --epochs "$epochs" --seed 1
if part score; then for m in ${SCORE_MODELS:-dcgan32 progan32 stylegan32 transgan32}; do score $m; done; fi

# dcgan for as long as another model took: the steps dcgan32 runs in that model's wall time (the sum of its pieces).
# While that model still trains (another queue), dcgan goes on to the steps of its time so far, then to the rest.
seconds() {   # seconds NAME: its CPU seconds (or, for a run without that record, its wall seconds)
  local f="$out/$1/cpu-pieces.txt"; [ -f "$f" ] || f="$out/$1/wall-pieces.txt"
  paste -sd+ "$f" 2>/dev/null | bc
}
laststep() { tail -1 "$out/$1/metrics.jsonl" | python3 -c "import json,sys; print(json.load(sys.stdin)['step'])"; }
dcgan_steps() {   # dcgan_steps SECONDS: dcgan32's steps in that many seconds
  echo $(( $1 * $(laststep dcgan32) / $(paste -sd+ "$out/dcgan32/wall-pieces.txt" | bc) ))
}
running_seconds() {   # running_seconds NAME: its finished pieces plus the CPU time of its training under way, if any
  local done_s; done_s=$(seconds "$1"); done_s=${done_s:-0}
  local pid; pid=$(pgrep -f -- "--out $out/$1\$" | head -1 || true)
  local now_s=0; [ -n "$pid" ] && now_s=$(ps -o times= -p "$pid" | tr -d ' ')
  echo $(( done_s + ${now_s:-0} ))
}
walltime() {   # walltime OF NAME FROM: FROM's dcgan continued for OF's wall time into OUT/NAME
  await dcgan32
  if [ ! -f "$out/$2/done" ]; then
    if [ ! -d "$out/$2" ]; then await "$3"; cp -r "$out/$3" "$out/$2"; rm -f "$out/$2/done" "$out/$2/eval.json"; fi
    while [ ! -f "$out/$1/done" ]; do   # OF still trains: go as far as its time so far
      local lower; lower=$(dcgan_steps "$(running_seconds "$1")")
      if [ "$lower" -gt $(( $(laststep "$2") + 500 )) ]; then
        "$ganforge" train --model dcgan --epochs 1000 --max-steps "$lower" --seed 1 --resume --threads "$threads" --data fashion-mnist \
          --image-size 32 --log-every 100 --out "$out/$2" >> "$out/$2.log" 2>&1
      else sleep 60; fi
    done
    [ -f "$out/$1/cpu-pieces.txt" ] || sleep 45   # a CPU record kept by another process may lag its done
    local steps; steps=$(dcgan_steps "$(seconds "$1")")
    echo "$2: $steps dcgan steps = $(seconds "$1") s of $1 at dcgan32's $(laststep dcgan32) steps in $(paste -sd+ "$out/dcgan32/wall-pieces.txt" | bc) s" | tee "$out/$2.steps.txt"
    if [ "$(laststep "$2")" -gt "$steps" ]; then
      echo "$2: already at step $(laststep "$2"), past $1's $steps (it continues $3, which took longer); remove it and give FROM a shorter run" >&2
      return 1
    fi
    train "$2" --model dcgan --epochs 1000 --max-steps "$steps" --seed 1
  fi
  score "$2"
}
# In the order of the times here (transgan, progan, stylegan): each continues the one before it.
part walltime || part walltime-transgan && walltime transgan32 dcgan32-walltime-transgan dcgan32
part walltime || part walltime-progan && walltime progan32 dcgan32-walltime-progan dcgan32-walltime-transgan
part walltime || part walltime-stylegan && walltime stylegan32 dcgan32-walltime-stylegan dcgan32-walltime-progan

if part truncation; then
for psi in 0.5 0.7 1.0; do
  [ -f "$out/stylegan32-psi$psi.eval.json" ] && continue
  "$ganforge" sample --checkpoint "$out/stylegan32" --count 10000 --seed 0 --truncation "$psi" --out "$out/stylegan32-psi$psi.idx"
  "$ganforge" eval --images "$out/stylegan32-psi$psi.idx" --data fashion-mnist --seed 0 --json "$out/stylegan32-psi$psi.eval.json" > "$out/stylegan32-psi$psi.eval.txt" 2>&1
  "$ganforge" sample --checkpoint "$out/stylegan32" --count 64 --seed 0 --truncation "$psi" --out "$out/stylegan32-psi$psi.png"
done
fi
if part grids; then
"$ganforge" mix --checkpoint "$out/stylegan32" --out "$out/stylegan32-mix.png"
"$ganforge" noise --checkpoint "$out/stylegan32" --out "$out/stylegan32-noise.png"
fi

# The first 10 test images as PNGs (B of the edge pairs is the image itself), then one projection each.
if part project; then
[ -d "$out/targets" ] || "$ganforge" pairs --data fashion-mnist --split test --pairs edges --limit 10 --image-size 32 \
  --out-a "$out/targets-edges" --out-b "$out/targets"
for i in $(seq 0 9); do
  f=$(printf "%06d" "$i")
  [ -f "$out/project-$f.txt" ] || "$ganforge" project --checkpoint "$out/stylegan32" --image "$out/targets/$f.png" \
    --out "$out/project-$f.npy" --steps 500 > "$out/project-$f.txt" 2>&1
done
fi
echo "done: $out ($parts)"
