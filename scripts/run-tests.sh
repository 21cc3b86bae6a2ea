#!/bin/sh
# Installs dependencies, builds, and runs every test except the `gpu` label
# (Vulkan tests run on lavapipe with the validation layer on).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" -LE gpu
