#!/usr/bin/env bash
# Issue #13's training benchmark: Java MVAR and VAR training iterations (forward, backward, AdamW
# step) at d16 on the 256 px pyramid, MVAR's ratio_k 8 schedule, fp16 with loss scaling, batch 32,
# random tokens, beside the reference trainer's (scripts/reference_train_bench.py) with the same
# model, batch and precision, each in a fresh process (scripts/gpu/train_benchmark.py). It runs
# before the sampling benchmark, which fits its configurations into what is left of BUDGET_S, and
# stops after TRAIN_BUDGET_S (default 150 s; expected on an H200: about a minute and a half).
# TRAIN_MODEL / TRAIN_BATCH / TRAIN_PROBE_TIMEOUT_S override d16 / 32 / 60 s per probe (the CPU check
# of this script uses d16@2 / 2 / 300).
set -uo pipefail
precision=$([[ "$DEVICE" == cpu ]] && echo fp32 || echo fp16)
timeout "${TRAIN_BUDGET_S:-150}" "$TORCH_PYTHON" "$ROOT/scripts/gpu/train_benchmark.py" \
  --java "$JAVA $JAVA_OPTS -cp $B/lib/*" --python "$TORCH_PYTHON" --checkout "$B/reference" --out "$OUT" \
  --device "$DEVICE" --precision "$precision" --model "${TRAIN_MODEL:-d16}" --batch "${TRAIN_BATCH:-32}" \
  --ratio-k 8 --cycles 2 --timeout-s "${TRAIN_PROBE_TIMEOUT_S:-60}"
