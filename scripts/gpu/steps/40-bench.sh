#!/usr/bin/env bash
# Issue #12's benchmark: Java MVAR and VAR beside the reference code, same settings, one run. It
# starts no configuration later than a minute before the run's budget (BUDGET_S) is spent.
set -uo pipefail
left=$(( BUDGET_S - ($(date +%s) - RUN_EPOCH) - 60 ))
precision=$([[ "$DEVICE" == cpu ]] && echo fp32 || echo fp16)
"$TORCH_PYTHON" "$ROOT/scripts/gpu/benchmark.py" --java "$JAVA $JAVA_OPTS -cp $B/lib/*" --python "$TORCH_PYTHON" \
  --checkout "$B/reference" --out "$OUT" --device "$DEVICE" --precision "$precision" --budget-s "$left" \
  ${BENCH_CONFIGS:+--configs "$BENCH_CONFIGS"}
