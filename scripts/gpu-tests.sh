#!/usr/bin/env bash
# Builds, on a machine with a JDK and Maven, a self-contained folder that runs mvar-cuda's GPU
# tests and benchmark on a GPU machine with no Java and no Maven:
#   runtime/      jlink image of the JDK running this script (only the modules listed below)
#   lib/          JCuda (+ linux-x86_64 natives), slf4j, mvar-cuda, JUnit console launcher
#   test-classes/ mvar-cuda's compiled tests (GPU tests, benchmark)
#   run-gpu-tests.sh, bench_sdpa.py
# The GPU tests drive the kernels through JCuda's driver API on cuMemAlloc memory, so neither
# DJL nor PyTorch is shipped: DJL's GPU engine need not match the machine's PyTorch.
#
#   scripts/gpu-tests.sh [bundle-folder]     default: mvar-cuda/target/gpu-bundle
# then on the GPU machine:  <bundle-folder>/run-gpu-tests.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/mvar-cuda/target/gpu-bundle}"
console="org.junit.platform:junit-platform-console-standalone:1.14.1"
modules="java.base,java.logging,jdk.unsupported,java.management,java.sql,java.naming,java.xml"
# Offline when everything is in ~/.m2 already; MVN_FLAGS="" lets Maven download (first run).
mvn_flags="${MVN_FLAGS--o}"

cd "$root"
mvn -B -q $mvn_flags package -pl mvar-cuda -am -DskipTests
rm -rf "$out"
mkdir -p "$out/lib"
mvn -B -q $mvn_flags dependency:copy-dependencies -pl mvar-cuda -DincludeScope=test \
    -DincludeArtifactIds=jcuda,jcuda-natives,slf4j-api,slf4j-simple -DoutputDirectory="$out/lib"
mvn -B -q $mvn_flags dependency:copy -Dartifact="$console" -DoutputDirectory="$out/lib"
cp mvar-cuda/target/mvar-cuda-*[0-9T].jar "$out/lib/"
cp -r mvar-cuda/target/test-classes "$out/test-classes"
cp scripts/run-gpu-tests.sh scripts/bench_sdpa.py "$out/"
jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
    --output "$out/runtime"
"$out/runtime/bin/java" -version 2>&1 | head -1
echo "bundle: $out ($(du -sh "$out" | cut -f1)); on the GPU machine run $out/run-gpu-tests.sh"
