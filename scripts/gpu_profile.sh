#!/bin/bash
# Diagnostic set for the GPU machine: copy ceiling, GPU time per kernel and
# section for one decode and one 8-token verify (27B shape, MXFP4 and bf16),
# the matvec kernel alone, and the verify/decode timings.
# Usage (repo root on the GPU machine): scripts/gpu_profile.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/vk_ceiling" 1024 > "$out/ceiling.txt" 2>&1; grep -E "GB/s" "$out/ceiling.txt"
for fmt in mxfp4 bf16; do
  "$bin/mlxmtp-verify-bench" --profile $cfg $fmt > "$out/profile_$fmt.jsonl" 2>&1
  grep '"what":"profile"' "$out/profile_$fmt.jsonl"
done
"$bin/mlxmtp-kernel-bench" 4096 14336 536870912 0 0 > "$out/matvec.jsonl" 2>&1
cut -c1-160 "$out/matvec.jsonl"
"$bin/mlxmtp-verify-bench" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/verify_mxfp4.jsonl" 2>&1
cat "$out/verify_mxfp4.jsonl"
