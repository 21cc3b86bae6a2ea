#!/bin/sh
# The main job: install dependencies, build, check the device's kernels, then
# generate with native MTP speculative decoding on the bundled trained model
# (tests/fixtures/tiny-qwen35-trained) and show the acceptance.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
./build/mlxmtp info --selftest
./build/mlxmtp generate --model tests/fixtures/tiny-qwen35-trained \
  --prompt "import os
import sys


def main():
" --max-tokens 64 --decoder mtp --draft 3
