#!/bin/sh
# Installs dependencies, builds, and runs every test except the `gpu` label
# (Vulkan tests run on lavapipe with the validation layer on); then builds the
# host-only unit tests (parsers, tokenizers, quantizer, the fuzz corpus replay)
# with ASan + UBSan into build-asan/ and runs them again.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
(cd build && ctest --output-on-failure -j "$(nproc)" -LE gpu)
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMLXMTP_SANITIZE=ON -DMLXMTP_BUILD_EXAMPLES=OFF
cmake --build build-asan -j "$(nproc)" --target test_unit
cd build-asan
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j "$(nproc)" -L unit
