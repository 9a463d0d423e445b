#!/usr/bin/env bash
# Issue #14's GPU rows: Java MVAR and VAR beside the reference code at 512 and 1024 px (presets
# d16-512 and d16-1024, random weights; 256 px is 40-bench's d16), fp16, the settings of 40-bench,
# each in a fresh process, into $OUT/resolution/, 512 px first. It takes at most RES_BUDGET_S
# (default 150 s) of what is left of BUDGET_S and is skipped when under a minute is left (after
# 40-bench in a full run): run it alone with STEPS='45-*' (docs/benchmarks.md, "Resolution scaling").
set -uo pipefail
precision=$([[ "$DEVICE" == cpu ]] && echo fp32 || echo fp16)
left=$(( BUDGET_S - ($(date +%s) - RUN_EPOCH) - 20 ))
budget=$(( left < ${RES_BUDGET_S:-150} ? left : ${RES_BUDGET_S:-150} ))
if (( budget < 60 )); then
  echo "45-resolution: skipped, ${left} s of BUDGET_S left; run it alone with STEPS='45-*'"
  exit 0
fi
timeout "$budget" "$TORCH_PYTHON" "$ROOT/scripts/gpu/benchmark.py" --java "$JAVA $JAVA_OPTS -cp $B/lib/*" \
  --python "$TORCH_PYTHON" --checkout "$B/reference" --out "$OUT/resolution" --device "$DEVICE" \
  --precision "$precision" --budget-s $(( budget - 40 )) --reps 2 --timeout-s 90 \
  --configs "${RES_CONFIGS:-d16-512:8,d16-1024:1,d16-512:32}"
