#!/bin/bash
# Correctness of the tensor-core path on the GPU (~30 s): the kernel self-test
# with the tensor-core extension on (the matvec_frag_mxfp4 check then runs the
# native kernel: plain, SwiGLU and conv epilogues, every column alone against
# the batch), then the bundled trained model quantized to MXFP4 (and the bf16 model itself) and generated
# greedily with tensor cores (the default) and --no-tensor-cores, vanilla and
# MTP (k = 3): within
# each kernel path MTP's tokens must equal vanilla's.
# Usage (repo root on the GPU machine): scripts/gpu_tc_check.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
"$bin/mlxmtp" info --selftest > "$out/selftest.txt" 2>&1; grep -E "self-test|frag" "$out/selftest.txt"
"$bin/mlxmtp" quantize --src tests/fixtures/tiny-qwen35-trained --out /tmp/tiny_q4 --mode mxfp4 --force > /dev/null
prompt="import os
import sys


def main():
"
# The MXFP4-quantized model, then (since 2026-12-06, bf16 weights on tensor
# cores too) the bf16 model itself.
for model in /tmp/tiny_q4 tests/fixtures/tiny-qwen35-trained; do
  tag=$([ "$model" = /tmp/tiny_q4 ] && echo "" || echo "_bf16")
  for tc in "" --no-tensor-cores; do
    for dec in vanilla mtp; do
      f="$out/gen_${dec}${tag}${tc:+_tc}.json"
      "$bin/mlxmtp" generate --model "$model" --prompt "$prompt" --max-tokens 64 --decoder $dec --draft 3 --json $tc > "$f" 2>&1
      printf '%s%s %s: ' "$dec" "$tag" "${tc:-default (tensor cores)}"; tr -d ' \n' < "$f" | grep -oE '"tokens":\[[^]]*\]' | md5sum | cut -c1-12
      grep -oE '"acceptance_rate":[0-9.]+|"tokens_per_round":[0-9.]+|"tensor_cores":[a-z]+' "$f" | tr '\n' ' '; echo
    done
  done
done
