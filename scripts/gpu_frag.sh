#!/bin/bash
# The fragment-decoding tensor-core MXFP4 matvec (matvec_frag.comp,
# mlxmtp-kernel-bench COOP = 3) against the default matvec in the same
# process, n = 1, 2, 4, 8, 9, 16, on the 4096 x 14336 weight and the
# 27B gate / down shapes, after the fragment layout probe (COOP = 2) and
# with the copy ceiling.
# Usage (repo root on the GPU machine): scripts/gpu_frag.sh BIN_DIR OUT_DIR ['SET;SET...']
# SETs are matvec_frag define lists (NAME=V,NAME=V; empty: the defaults NSG=8,
# R=1, PF=4); the default sweeps the
# warps per workgroup (NSG), 16-row tiles per warp (R), groups of loads in
# flight (PF), x split inside the kernel (XF32) and the two timing
# diagnostics (DIAG_NO_DECODE, DIAG_NO_LO).
set -u
bin=$1; out=$2
sets=${3:-";NSG=4,R=2,PF=2;NSG=8,R=2,PF=3;NSG=4,R=1,PF=4;NSG=8,R=1,PF=2;XF32;NSG=8,R=2,PF=3,XF32;DIAG_NO_DECODE;DIAG_NO_LO"}
"$bin/vk_ceiling" > "$out/ceiling.txt" 2>&1
"$bin/mlxmtp-kernel-bench" 64 64 1 0 0 0 0 mxfp4 0 0 1 0 2 > "$out/probe.jsonl" 2>&1
tail -1 "$out/probe.jsonl"
for shape in "4096 14336" "17408 5120" "5120 17408"; do
  "$bin/mlxmtp-kernel-bench" $shape 536870912 0 0 0 0 mxfp4 0 0 1,2,4,8,9,16 0 3 "$sets" >> "$out/frag.jsonl" 2>&1
done
tail -1 "$out/ceiling.txt"
sed -nE 's/.*"kernel":"matvec","format":"mxfp4","rows":([0-9]+),"cols":([0-9]+),"n":([0-9]+),.*"us":([0-9.]+),.*/matvec \1x\2 n=\3 \4 us/p;
  s/.*"kernel":"matvec_frag","format":"mxfp4","rows":([0-9]+),"cols":([0-9]+),"n":([0-9]+),.*"defines":"([^"]*)","max_diff_rel":([^,]+),.*"us":([0-9.]+),"gb_s":([0-9.]+),"x_split_us":([0-9.]+).*/frag [\4] \1x\2 n=\3 \6 us (\7 GB\/s) diff \5 split \8 us/p;
  s/.*"kernel":"matvec_frag".*"error".*/&/p' "$out/frag.jsonl"
