#!/bin/sh
# The main job: install dependencies, build, then show the devices and run the
# kernel self-test on the bundled default model's device.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
./build/mlxmtp info --selftest
