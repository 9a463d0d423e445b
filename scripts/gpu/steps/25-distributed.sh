#!/usr/bin/env bash
# Data-parallel training on the GPU (docs/distributed.md), through JUnit's console launcher with the
# tests on the JVM's class path (DataParallelGpuTest starts ranks that run this same class path):
#   NcclGpuTest           NCCL with a world of one rank: libnccl.so.2 from torch's environment, the
#                         unique id through the rendezvous, a sum on PyTorch's stream, the event poll
#   DataParallelGpuTest   two ranks on gpu0 summing through host memory with MPI equal one rank (10
#                         MVAR steps, fp32, 1e-4); needs Open MPI's mpirun, which a GPU machine may
#                         not have: then it is reported as not run and the step still passes
# Several GPUs over NCCL need a machine with several: not tested here. About 15 s without mpirun,
# about a minute with it.
set -uo pipefail
[[ "$DEVICE" == cpu ]] && { echo "no GPU: skipped"; exit 0; }
nccl="$(find -L "$PYTORCH_LIBRARY_PATH" "$PYTORCH_LIBRARY_PATH/../../nvidia" -maxdepth 4 -name 'libnccl.so.2' \
  2>/dev/null | head -n 1)"
[[ -n "$nccl" ]] && export MVAR_NCCL_LIBRARY="$nccl"
echo "NCCL: ${nccl:-none next to torch; the loader's search path is tried}"
tests=(--select-class ai.mvar.train.distributed.NcclGpuTest)
if command -v mpirun >/dev/null; then
  mpirun --version | head -n 1
  tests+=(--select-class ai.mvar.train.transformer.DataParallelGpuTest)
else
  echo "NOT RUN: two ranks on one GPU over host-staged MPI (no mpirun on this machine)"
fi
cp=""
for dir in "$B"/test/classes/*; do cp="$cp:$dir"; done
for jar in "$B"/lib/*.jar "$B"/test/junit-platform-console-standalone-*.jar; do cp="$cp:$jar"; done
log="$OUT/distributed.txt"
NVIDIA_TF32_OVERRIDE=0 "$JAVA" $JAVA_OPTS -cp "${cp#:}" org.junit.platform.console.ConsoleLauncher execute \
  --disable-banner --disable-ansi-colors --details=tree "${tests[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
count() { grep -oE "\[ +[0-9]+ $1" "$log" | grep -oE '[0-9]+' | head -n 1; }
notrun=$(( $(count "tests skipped" || echo 0) + $(count "tests aborted" || echo 0) ))
if [[ "$notrun" != 0 ]]; then
  echo "FAIL: $notrun test(s) did not run (no GPU for the engine?)"
  status=1
fi
exit "$status"
