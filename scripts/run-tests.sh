#!/bin/sh
# Installs dependencies, builds, and runs every test except the `gpu` label
# (Vulkan tests run on lavapipe with the validation layer on); then builds the
# host-only unit tests (parsers, tokenizers, quantizer, the fuzz corpus replay)
# with ASan + UBSan into build-asan/ and runs them again, then the C API tests
# and a subset of the engine tests (sessions, rollback, MTP, split attention,
# threads, loader errors) on lavapipe under the same sanitizers.  Leak checks
# are off for those two: with the validation layer on, LeakSanitizer reports
# allocations at exit whose stacks end in lavapipe and the Khronos layer (the
# MTP API test, which creates and destroys everything without the layer,
# reports none), and the engine tests' harness keeps its shared device and
# models until exit.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
(cd build && ctest --output-on-failure -j "$(nproc)" -LE gpu)
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMLXMTP_SANITIZE=ON -DMLXMTP_BUILD_EXAMPLES=OFF
cmake --build build-asan -j "$(nproc)" --target test_unit test_api test_integration mlxmtp_cli
cd build-asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --output-on-failure -j "$(nproc)" -L unit
export ASAN_OPTIONS=detect_leaks=0
ctest --output-on-failure -j "$(nproc)" -L api
ctest --output-on-failure -j "$(nproc)" -L integration \
  -R 'EngineBatchInvariance|EngineSplitAttention|EngineRollback|EngineContext|EngineThreads|MtpDev|ModelLoadErrors'
