#!/usr/bin/env bash
# Which libtorch (and JNI) Java loaded, the GPUs and the driver, whether the CUDA kernel loads.
set -uo pipefail
mvar doctor | tee "$OUT/doctor.txt"
status=${PIPESTATUS[0]}
if [[ "$DEVICE" != cpu ]] && ! grep -q "GPUs the engine sees: [1-9]" "$OUT/doctor.txt"; then
  echo "the engine sees no GPU"
  status=1
fi
exit "$status"
