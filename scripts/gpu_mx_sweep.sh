#!/bin/bash
# MX matvec tuning on the GPU machine: unit width (packed words per lane),
# rows per subgroup and load unroll for MXFP4 and MXFP8 on the issue's
# 4096 x 14336 shape and the 27B gate/up shape, then the decode / verify
# benchmark at the defaults and the kernel self-test.
# Usage (repo root on the GPU machine): scripts/gpu_mx_sweep.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
kb="$bin/mlxmtp-kernel-bench"
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/vk_ceiling" 1024 > "$out/ceiling.txt" 2>&1; grep -E "GB/s" "$out/ceiling.txt"
"$kb" 4096 14336 536870912 0 0 > "$out/matvec.jsonl" 2>&1
cut -c1-190 "$out/matvec.jsonl"
"$kb" 4096 14336 536870912 2,4,8 0 0 1,2 mxfp4 1,2 > "$out/sweep.jsonl" 2>&1
"$kb" 4096 14336 536870912 2,4 0 0 1,2 mxfp8 2,4 >> "$out/sweep.jsonl" 2>&1
"$kb" 17408 5120 536870912 4 0 0 2 mxfp4 1,2 >> "$out/sweep.jsonl" 2>&1
"$bin/mlxmtp-verify-bench" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/verify_mxfp4.jsonl" 2>&1
cat "$out/verify_mxfp4.jsonl"
"$bin/mlxmtp" info --selftest > "$out/selftest.txt" 2>&1; grep -iE "self-test|fail" "$out/selftest.txt" | head
