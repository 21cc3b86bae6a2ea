#!/bin/bash
# Matvec tuning sweep on the GPU machine: the 4096 x 14336 shape and
# the 27B decode shapes (gate/up 17408 x 5120, down 5120 x 17408, the tiny
# GDN gate projections 48 x 5120), over K splits and load unrolls.
# Usage (repo root on the GPU machine): scripts/gpu_matvec_sweep.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
kb="$bin/mlxmtp-kernel-bench"
"$kb" 4096 14336 536870912 0 0 0 0 > "$out/sweep.jsonl" 2>&1
"$kb" 4096 14336 536870912 0 0 1,2,4,8 2,4,8 mxfp4,bf16 >> "$out/sweep.jsonl" 2>&1
"$kb" 5120 17408 536870912 0 0 1,2,4,8 2,4 mxfp4,bf16 >> "$out/sweep.jsonl" 2>&1
"$kb" 17408 5120 536870912 0 0 1,2 2,4 mxfp4,bf16 >> "$out/sweep.jsonl" 2>&1
"$kb" 48 5120 268435456 0 0 0 0 mxfp4,bf16 >> "$out/sweep.jsonl" 2>&1
