#!/usr/bin/env bash
# The GPU test list through JUnit's console launcher. On a GPU a test that does not run (an unmet
# assumption, such as "the engine sees no GPU") is a failure; with DEVICE=cpu the GPU tests are
# expected not to run and only the rest must pass.
set -uo pipefail
GPU_TESTS=(
  ai.mvar.cuda.ModelGpuTest                        # fixture parity fp32/fp16, kernel inside Transformer, same seed
  ai.mvar.cuda.CudaNeighbourhoodKernelDjlGpuTest   # the kernel on DJL GPU tensors vs out.na
  ai.mvar.cuda.NaKernelGpuTest                     # the kernels on raw device memory, 60 shapes
  ai.mvar.cuda.NaKernelGradientGpuTest             # backward vs finite differences
  ai.mvar.train.transformer.TrainingGpuTest        # training gradients GPU vs CPU (fp32 1e-4, fp16 2e-2), fp16 trainer
)
ANYWHERE_TESTS=(
  ai.mvar.attention.KernelSelectionTest            # the decline rule under autograd
  ai.mvar.nn.PrecisionTest
  ai.mvar.cuda.CudaDeviceMeterTest
  ai.mvar.cuda.NaGeometryTest
  ai.mvar.cuda.HalfTest
)
cp=""
for dir in "$B"/test/classes/*; do cp="$cp:$dir"; done
for jar in "$B"/lib/*.jar; do cp="$cp:$jar"; done
select=()
for c in "${GPU_TESTS[@]}" "${ANYWHERE_TESTS[@]}"; do select+=(--select-class "$c"); done
log="$OUT/tests.txt"
# TF32 off for cuDNN's convolutions too: the fixtures were computed in strict fp32.
NVIDIA_TF32_OVERRIDE=0 "$JAVA" $JAVA_OPTS -jar "$B"/test/junit-platform-console-standalone-*.jar execute \
  --disable-banner --disable-ansi-colors --details=tree --class-path "${cp#:}" "${select[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
count() { grep -oE "\[ +[0-9]+ $1" "$log" | grep -oE '[0-9]+' | head -n 1; }
notrun=$(( $(count "tests skipped" || echo 0) + $(count "tests aborted" || echo 0) + $(count "containers aborted" || echo 0) ))
if [[ "$DEVICE" == cpu ]]; then
  # Only the GPU classes may be aborted here; the rest must pass: a failure is still a failure.
  [[ "$(count "tests failed")" == 0 ]] && status=0
  echo "DEVICE=cpu: $notrun GPU tests/containers did not run (expected without a GPU)"
elif [[ "$notrun" != 0 ]]; then
  echo "FAIL: $notrun tests or classes did not run (no GPU for the engine? CUDA kernel not loaded?)"
  status=1
fi
exit "$status"
