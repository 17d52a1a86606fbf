#!/usr/bin/env bash
# The kill -9 soak of docs/reliability.md: a small run is killed with SIGKILL at random moments N times, some of
# the kills landing inside a checkpoint save, and resumed with --resume after each; at the end the run must equal
# an uninterrupted run of the same command: generator.safetensors and the sample grids byte for byte, the tensors
# of checkpoint.safetensors byte for byte, the same state in checkpoint.json (less the time and the output folder),
# the same logged steps, each once, and no temporary file left.
#
# Usage: tools/soak/kill9.sh [-n KILLS] [-s SEED] [-d WORK_DIR] [-k]
#   -n KILLS     kills to deliver (default 25)
#   -s SEED      seed of the kill schedule (default 1; the moments still depend on the machine's speed)
#   -d WORK_DIR  where the two runs go (default: a new folder under $TMPDIR, removed after a PASS unless -k)
#   -k           keep WORK_DIR after a PASS
# GANFORGE=path/to/ganforge runs those binaries (default src/GanForge.Cli/bin/Release/net10.0/ganforge, built if missing).
# Prints each kill, then N, how many kills hit a checkpoint save, and PASS or FAIL with the reason; exits 0 or 1.
set -uo pipefail
cd "$(dirname "$0")/../.."

kills_wanted=25 seed=1 work="" keep=0
while getopts "n:s:d:kh" opt; do
  case $opt in
    n) kills_wanted=$OPTARG ;;
    s) seed=$OPTARG ;;
    d) work=$OPTARG ;;
    k) keep=1 ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
  esac
done
ganforge=${GANFORGE:-src/GanForge.Cli/bin/Release/net10.0/ganforge}
if [ -z "${GANFORGE:-}" ] && [ ! -x "$ganforge" ]; then
  dotnet build -c Release src/GanForge.Cli >/dev/null || { echo "FAIL: the CLI does not build"; exit 1; }
fi
[ -x "$ganforge" ] || { echo "FAIL: no ganforge at '$ganforge'"; exit 1; }
[ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/ganforge-kill9.XXXXXX")
mkdir -p "$work"
straight=$work/straight soak=$work/soak
rm -rf "$straight" "$soak" "$work"/*.log
RANDOM=$seed

# The run: 2048 images in batches of 64, 32 steps an epoch, 128 steps; a checkpoint every 5 steps and at each epoch's end.
cmd=(train --model gan --data embedded --limit 2048 --batch-size 64 --epochs 4 --ema 0 --checkpoint-every 5 --log-every 5 --seed 1)

now() { echo "$EPOCHREALTIME"; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
# A duration in seconds in [lo, hi] from r, a draw of $RANDOM (made by the caller: a subshell would draw its own).
rand_between() { awk -v lo="$1" -v hi="$2" -v r="$3" 'BEGIN { printf "%.3f", lo + (hi - lo) * r / 32767 }'; }
# The step recorded in checkpoint.safetensors (the state in its header, a JSON string in which '"' is \" or \u0022)
# and in checkpoint.json; "-" when the file is absent.
st_step() {
  [ -f "$1/checkpoint.safetensors" ] || { echo -; return; }
  local len s; len=$(od -An -t u8 -N8 "$1/checkpoint.safetensors" | tr -d ' ')
  s=$(head -c $((8 + len)) "$1/checkpoint.safetensors" | grep -aoE 'Step(\\"|\\u0022):[0-9]+' | grep -oE '[0-9]+$')
  echo "${s:-?}"
}
json_step() {
  [ -f "$1/checkpoint.json" ] || { echo -; return; }
  local s; s=$(grep -oE '"Step": [0-9]+' "$1/checkpoint.json" | grep -oE '[0-9]+$')
  echo "${s:-?}"
}
has() { compgen -G "$1" >/dev/null; }
logged_steps() { [ -f "$1" ] && grep -o '"step":[0-9]*' "$1" | cut -d: -f2; }
# The data section of a safetensors file (after the 8-byte length and the header).
data_of() { local len; len=$(od -An -t u8 -N8 "$1" | tr -d ' '); tail -c +$((9 + len)) "$1"; }

# 1. The uninterrupted run, timed: how long the process takes to start, and each step.
echo "uninterrupted run: ganforge ${cmd[*]} --out $straight"
t0=$(now)
"$ganforge" "${cmd[@]}" --out "$straight" >"$work/straight.log" 2>&1 &
pid=$!
first=""
while kill -0 "$pid" 2>/dev/null; do
  [ -z "$first" ] && [ -s "$straight/metrics.jsonl" ] && first=$(now)
  sleep 0.01
done
wait "$pid" || { echo "FAIL: the uninterrupted run failed (see $work/straight.log)"; exit 1; }
total=$(fsub "$(now)" "$t0")
total_steps=$(logged_steps "$straight/metrics.jsonl" | tail -1)
first=${first:-$(now)}
step_s=$(awk -v a="$first" -v b="$t0" -v t="$total" -v n="$total_steps" 'BEGIN { printf "%.4f", (t - (a - b)) / (n - 5) }')
startup_s=$(awk -v a="$first" -v b="$t0" -v p="$step_s" 'BEGIN { s = (a - b) - 5 * p; printf "%.3f", (s > 0.1 ? s : 0.1) }')
echo "  $total_steps steps in ${total}s: about ${startup_s}s to start, ${step_s}s a step"

# 2. The soak: start (or resume), kill -9, again, until N kills have landed.
kills=0 save_kills=0 rewrite_kills=0 attempts=0 finished_runs=0
declare -A where_counts=()
echo "soak run: the same command, --out $soak, killed $kills_wanted times, resumed with --resume"
while [ "$kills" -lt "$kills_wanted" ] && [ "$attempts" -lt $((kills_wanted * 4)) ]; do
  attempts=$((attempts + 1))
  before=$(st_step "$soak")
  resume=()
  [ -f "$soak/checkpoint.safetensors" ] && resume=(--resume)   # before the first checkpoint, the run starts afresh
  "$ganforge" "${cmd[@]}" "${resume[@]}" --out "$soak" >"$work/soak-$attempts.log" 2>&1 &
  pid=$!
  started=$(now)
  aim=$((RANDOM % 6))
  if [ "$aim" -lt 3 ]; then
    # Aimed at a save. A save of this run takes 30-110 ms on the machine of docs/reliability.md: 20-50 writing
    # checkpoint.safetensors, a few for checkpoint.json, 5-20 writing generator.safetensors. Two aims, by the
    # temporary files (named with the writer's process id) as they appear: that of checkpoint.safetensors, then
    # 0-40 ms (in its write, its rename, checkpoint.json, or later); or that of generator.safetensors in a save
    # (after one of checkpoint.safetensors: a resume's first writes are its rewrite), then 0-4 ms (it is written in
    # about 10).
    # The pause is drawn before the wait: drawing it takes a few ms, as long as the generator's write.
    r=$RANDOM
    if [ "$aim" -lt 2 ]; then
      extra=$(rand_between 0 0.040 "$r")
      how="at checkpoint.safetensors's temporary file, +${extra}s"
    else
      extra=$(rand_between 0 0.004 "$r")
      how="at generator.safetensors's temporary file, +${extra}s"
    fi
    while kill -0 "$pid" 2>/dev/null && ! has "$soak/.checkpoint.safetensors.$pid.*.tmp"; do sleep 0.002; done
    if [ "$aim" -eq 2 ]; then
      while kill -0 "$pid" 2>/dev/null && ! has "$soak/.generator.safetensors.$pid.*.tmp"; do sleep 0.001; done
    fi
    sleep "$extra"
  else
    # At a random moment: from the process's start to about twice the time the steps left per kill take, so the
    # run neither finishes before the last kill nor stops making progress.
    steps_now=$before; [ "$steps_now" = - ] && steps_now=0
    per_kill=$(awk -v t="$total_steps" -v s="$steps_now" -v k=$((kills_wanted - kills)) 'BEGIN { print (t - s) / k }')
    r=$RANDOM
    delay=$(rand_between 0.02 "$(awk -v s="$startup_s" -v p="$step_s" -v n="$per_kill" 'BEGIN { print s + 2 * n * p }')" "$r")
    how="random moment"
    sleep "$delay"
  fi
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null; rc=$?
  if [ "$rc" -ne 137 ]; then
    if [ "$rc" -ne 0 ]; then
      echo "FAIL: attempt $attempts exited with $rc, not killed (see $work/soak-$attempts.log):"
      tail -5 "$work/soak-$attempts.log"
      exit 1
    fi
    finished_runs=$((finished_runs + 1))   # it ended on its own before the kill: no kill counted
    continue
  fi
  kills=$((kills + 1))
  alive=$(fsub "$(now)" "$started")
  # Where the kill landed, from what it left. A save writes checkpoint.safetensors, checkpoint.json, then
  # generator.safetensors, each to a temporary file (named with the writer's process id) renamed into place; a
  # resume rewrites the last two first.
  after=$(st_step "$soak")
  where=""
  if has "$soak/.checkpoint.safetensors.$pid.*.tmp"; then where="writing checkpoint.safetensors"
  elif has "$soak/.checkpoint.json.$pid.*.tmp"; then where="writing checkpoint.json"
  elif has "$soak/.generator.safetensors.$pid.*.tmp"; then where="writing generator.safetensors"
  elif [ "$after" != - ] && [ "$after" != "$(json_step "$soak")" ]; then where="between checkpoint.safetensors and checkpoint.json"
  elif [ -f "$soak/checkpoint.json" ] && { [ ! -f "$soak/generator.safetensors" ] || [ "$soak/checkpoint.json" -nt "$soak/generator.safetensors" ]; }; then
    where="between checkpoint.json and generator.safetensors"
  fi
  if [ -n "$where" ] && ! grep -qE 'step [0-9]+/[0-9]+' "$work/soak-$attempts.log"; then
    where="$where, in the resume's rewrite"   # no step taken yet: the files beside the checkpoint being rewritten
    rewrite_kills=$((rewrite_kills + 1))
  elif [ -n "$where" ]; then
    save_kills=$((save_kills + 1))
  elif has "$soak/.*.$pid.*.tmp" || has "$soak/samples/.*.$pid.*.tmp"; then
    where="writing a sample grid"
  else
    where="elsewhere"
  fi
  where_counts[$where]=$((${where_counts[$where]:-0} + 1))
  printf '  kill %2d (%s, after %ss alive): checkpoint step %s -> %s, %s\n' "$kills" "$how" "$alive" "$before" "$after" "$where"
done

# 3. The last resume runs to the end; then the soak run must equal the uninterrupted one.
echo "final resume"
resume=()
[ -f "$soak/checkpoint.safetensors" ] && resume=(--resume)
"$ganforge" "${cmd[@]}" "${resume[@]}" --out "$soak" >"$work/soak-final.log" 2>&1
final_rc=$?

fail=()
[ "$kills" -ge "$kills_wanted" ] || fail+=("only $kills of $kills_wanted kills landed in $attempts attempts")
[ "$final_rc" -eq 0 ] || fail+=("the final resume exited with $final_rc (see $work/soak-final.log)")
if [ "$final_rc" -eq 0 ]; then
  cmp -s "$straight/generator.safetensors" "$soak/generator.safetensors" || fail+=("generator.safetensors differs")
  cmp -s <(data_of "$straight/checkpoint.safetensors") <(data_of "$soak/checkpoint.safetensors") \
    || fail+=("the tensors of checkpoint.safetensors differ")
  # The state, less the time of the save and the configuration (which names the output folder).
  cmp -s <(grep -v -e '"SavedUtc"' -e '"ConfigYaml"' "$straight/checkpoint.json") \
         <(grep -v -e '"SavedUtc"' -e '"ConfigYaml"' "$soak/checkpoint.json") || fail+=("checkpoint.json differs")
  [ "$(st_step "$soak")" = "$(json_step "$soak")" ] || fail+=("checkpoint.json and checkpoint.safetensors disagree")
  for f in samples.png samples/epoch_001.png samples/epoch_002.png samples/epoch_003.png samples/epoch_004.png; do
    cmp -s "$straight/$f" "$soak/$f" || fail+=("$f differs")
  done
  leftovers=$(find "$soak" -name '*.tmp' | wc -l)
  [ "$leftovers" -eq 0 ] || fail+=("$leftovers temporary files left: $(find "$soak" -name '*.tmp' | head -3 | tr '\n' ' ')")
  for log in metrics.jsonl warnings.jsonl; do
    repeated=$(logged_steps "$soak/$log" | sort -n | uniq -d | head -3 | tr '\n' ' ')
    [ -z "$repeated" ] || fail+=("$log repeats steps $repeated")
    cmp -s <(logged_steps "$straight/$log") <(logged_steps "$soak/$log") || fail+=("$log logs other steps than the uninterrupted run")
  done
fi

echo
echo "kills: $kills (of $kills_wanted wanted; $attempts starts, $finished_runs ended on their own before their kill)"
echo "kills during a checkpoint save: $save_kills"
echo "kills during a resume's rewrite of checkpoint.json and generator.safetensors: $rewrite_kills"
for w in "${!where_counts[@]}"; do echo "  $w: ${where_counts[$w]}"; done | sort
if [ ${#fail[@]} -eq 0 ]; then
  echo "PASS: after $kills kills and resumes the run equals the uninterrupted one (generator.safetensors, checkpoint tensors and state, sample grids, logged steps each once, no temporary file)"
  [ "$keep" -eq 1 ] && echo "runs kept in $work" || rm -rf "$work"
  exit 0
fi
echo "FAIL: $(IFS=';'; echo "${fail[*]}" | sed 's/;/; /g') (runs kept in $work)"
exit 1
