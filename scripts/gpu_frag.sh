#!/bin/bash
# The fragment-decoding tensor-core MXFP4 matvec (matvec_frag.comp,
# mlxmtp-kernel-bench COOP = 3) against the default matvec, n = 1, 2, 4, 8, 9,
# 16, after the fragment layout probe (COOP = 2) and with the copy ceiling,
# on the issue's 4096 x 14336 weight and the 27B gate / down shapes.  One process per configuration, so that a driver crash
# in one (the earlier prototype's two-accumulator form crashed pipeline
# creation) does not lose the others; each process times the default matvec
# too.
# Usage (repo root on the GPU machine): scripts/gpu_frag.sh BIN_DIR OUT_DIR [SET...]
# (FRAG_SHAPES="ROWS COLS;ROWS COLS" and FRAG_NS=1,4,8 narrow the sweep; FRAG_SERIAL=1 puts a
# barrier after every dispatch, as the model runs them, 2 times both ways: kernel-bench's SERIAL.)
# A SET is a matvec_frag define list (NAME=V,NAME=V; "" = the defaults NSG=4,
# PF=2, R by rows: ops::frag_tiles_per_warp).  The default sets (tenth
# session) all split x in the kernel (XF32, as the engine does) and sweep
# what the H200's first timings point at: warps per workgroup (NSG), 16-row
# tiles per warp (R) and groups of loads in flight (PF), i.e. registers per
# lane against workgroups per wave; every shape runs every set, with the
# driver's pipeline statistics (registers, spills) printed at the end.
set -u
bin=$1; out=$2; shift 2
sets=("$@")
[ ${#sets[@]} -eq 0 ] && sets=("XF32" "NSG=4,R=2,PF=2,XF32" "NSG=4,R=1,PF=2,XF32" "NSG=4,R=4,PF=2,XF32"
                              "NSG=8,R=2,PF=2,XF32" "NSG=8,R=4,PF=2,XF32" "NSG=2,R=2,PF=2,XF32"
                              "NSG=4,R=2,PF=3,XF32" "NSG=4,R=2,PF=1,XF32")
"$bin/vk_ceiling" > "$out/ceiling.txt" 2>&1
"$bin/mlxmtp-kernel-bench" 64 64 1 0 0 0 0 mxfp4 0 0 1 0 2 > "$out/probe.jsonl" 2>&1
tail -1 "$out/probe.jsonl"
IFS=';' read -r -a shapes <<< "${FRAG_SHAPES:-4096 14336;17408 5120;5120 17408}"  # env: fewer shapes
for shape in "${shapes[@]}"; do
  for d in "${sets[@]}"; do
    "$bin/mlxmtp-kernel-bench" $shape 536870912 0 0 0 0 mxfp4 0 "${FRAG_SERIAL:-0}" "${FRAG_NS:-1,2,4,8,9,16}" 1 3 "$d" >> "$out/frag.jsonl" 2>&1 ||
      echo "{\"kernel\":\"matvec_frag\",\"shape\":\"$shape\",\"defines\":\"$d\",\"error\":\"exit $?\"}" >> "$out/frag.jsonl"
  done
done
tail -1 "$out/ceiling.txt"
sed -nE 's/.*"kernel":"matvec","format":"mxfp4","rows":([0-9]+),"cols":([0-9]+),"n":([0-9]+),.*"us":([0-9.]+),.*/matvec \1x\2 n=\3 \4 us/p;
  s/.*"kernel":"matvec_frag","format":"mxfp4","rows":([0-9]+),"cols":([0-9]+),"n":([0-9]+),.*"defines":"([^"]*)","max_diff_rel":([^,]+),.*"us":([0-9.]+),"gb_s":([0-9.]+),"x_split_us":([0-9.]+),"serial":([a-z]+).*/frag [\4] \1x\2 n=\3 \6 us (\7 GB\/s) diff \5 split \8 us serial \9/p;
  s/.*"kernel":"matvec_frag".*"error".*/&/p' "$out/frag.jsonl" | awk '!($0 ~ /^matvec/ && seen[$0]++)'
grep '"pipeline_stats".*matvec_frag' "$out/frag.jsonl" | sort -u | cut -c1-400
