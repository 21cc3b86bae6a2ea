#!/bin/bash
set -u
# Repeatability check on the GPU machine: the MXFP4 matvec kernel and the
# decode / verify benchmark twice in one call, and the clocks afterwards.
# Usage (repo root on the GPU machine): bash scripts/gpu_repeat.sh BIN_DIR OUT_DIR
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/vk_ceiling" 1024 > "$out/ceiling.txt" 2>&1; grep -E "GB/s" "$out/ceiling.txt"
for i in 1 2; do
  "$bin/mlxmtp-kernel-bench" 4096 14336 536870912 0 0 0 0 mxfp4 > "$out/matvec_$i.jsonl" 2>&1
  "$bin/mlxmtp-verify-bench" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/verify_mxfp4_$i.jsonl" 2>&1
done
nvidia-smi -q -d CLOCK,PERFORMANCE > "$out/smi.txt" 2>&1
