#!/bin/bash
# Second GPU call of the hi / lo column form (HLC=1): where the tensor-core
# decode's time goes (mlxmtp-verify-bench --profile, default path and frag
# path, per section), the warps-per-workgroup / tiles-per-warp sweep on the
# 27B shapes with few rows or few tiles (down, out / o, qkv, k / v, z), and
# the end-to-end effect of two global overrides.
# Usage (repo root on the GPU machine): scripts/gpu_hlc2.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/mlxmtp-verify-bench" --profile $cfg mxfp4 > "$out/profile_base.jsonl" 2>&1
"$bin/mlxmtp-verify-bench" --frag-matvec --profile $cfg mxfp4 > "$out/profile_frag.jsonl" 2>&1
for f in base frag; do
  echo "== $f"
  sed -nE 's/.*"what":"profile","of":"([a-z0-9]+)","gpu_span_us":([0-9.]+).*/\1 span \2 us/p' "$out/profile_$f.jsonl"
  sed -nE 's/.*"what":"profile_entry","of":"decode","name":"([^"]+)","us":([0-9.]+),"count":([0-9.]+).*/decode \1 \2 us x\3/p' "$out/profile_$f.jsonl"
done
FRAG_SHAPES="${FRAG_SHAPES:-5120 17408;5120 6144;10240 5120;1024 5120;6144 5120}" FRAG_NS="${FRAG_NS:-1,4,8,9}" \
  bash scripts/gpu_frag.sh "$bin" "$out" ${HLC_SETS:-HLC=1,XF32 HLC=1,NSG=4,R=1,XF32 HLC=1,NSG=8,R=1,XF32 HLC=1,NSG=8,R=2,XF32 HLC=1,NSG=16,R=1,XF32} \
  > "$out/frag_summary.txt" 2>&1
grep -E "^frag|^matvec" "$out/frag_summary.txt" | awk '!($0 ~ /^matvec/ && seen[$2 $3]++)'
for o in "NSG=8" "NSG=8 R=1"; do
  flags=(--frag-matvec); for kv in $o; do flags+=(--frag-define "$kv"); done
  f="$out/e2e_$(echo $o | tr ' =' '_-').jsonl"
  "$bin/mlxmtp-verify-bench" "${flags[@]}" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$f" 2>&1
  printf '%s: ' "$o"
  sed -nE 's/.*"what":"decode".*"ms":([0-9.]+).*/decode \1 |/p; s/.*"what":"verify","tokens":([0-9]+),"ms":([0-9.]+),"ratio_to_decode":([0-9.]+).*/\1:\2(\3)/p; s/.*"k":([1-4]),"tokens_per_round".*"speedup":([0-9.]+).*/s\1=\2/p' "$f" | tr '\n' ' '; echo
done
