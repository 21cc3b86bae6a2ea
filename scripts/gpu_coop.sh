#!/bin/bash
# The tensor-core MXFP4 matvec prototype (matvec_coop.comp) against the
# default matvec, n = 1, 2, 4, 8, on the 4096 x 14336 weight and the
# 27B gate / down shapes (mlxmtp-kernel-bench COOP = 1), with the copy ceiling.
# Usage (repo root on the GPU machine): scripts/gpu_coop.sh BIN_DIR OUT_DIR [DEFINE_SET...]
# A DEFINE_SET is the kernel-bench COOP_DEFINES argument, e.g. PF=8 (default: PF=4).
set -u
bin=$1; out=$2; shift 2
sets=("$@"); [ ${#sets[@]} -eq 0 ] && sets=(PF=4)
"$bin/vk_ceiling" > "$out/ceiling.txt" 2>&1
for shape in "4096 14336" "17408 5120" "5120 17408"; do
  for d in "${sets[@]}"; do
    "$bin/mlxmtp-kernel-bench" $shape 536870912 0 0 0 0 mxfp4 0 0 1,2,4,8 0 1 "$d" >> "$out/coop.jsonl" 2>&1
  done
done
tail -1 "$out/ceiling.txt"
sed 's/"format":"mxfp4",//; s/"rps":0,//; s/"unroll":0,//; s/"serial":false,//; s/"weight_bytes":[0-9]*,//; s/"ksplit":[0-9]*,"mx_words":[0-9]*,"matrices":[0-9]*,//; s/"kernel"://; s/"rows"://; s/"cols"://' "$out/coop.jsonl"
