#!/bin/bash
# One GPU call for the fragment kernel (docs/perf-matvec.md): scripts/gpu_frag.sh's
# probe and sweep, then the configuration with the lowest summed time at
# n = 1, 4 and 8 over its three shapes (among those whose every result is
# within 1e-4 of matvec.comp's, relative to max |y|) end to end on the 27B
# MXFP4 shape against the default path (mlxmtp-verify-bench: decode, verify
# k = 1..8, draft, projected speedup), one run each, a 2048-token prefill
# through each, then timing-only variants of it (~9-11 min in all).
# Usage (repo root on the GPU machine): scripts/gpu_frag_e2e.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
# Six of gpu_frag.sh's nine sets (PF = 2 beat 1, 3 and 4 on the H200), so that the whole fits one call
# (FRAG_SETS="SET SET ..." instead; FRAG_SHAPES and FRAG_NS as gpu_frag.sh).
read -r -a sets <<< "${FRAG_SETS:-XF32 NSG=4,R=2,PF=2,XF32 NSG=4,R=1,PF=2,XF32 NSG=4,R=4,PF=2,XF32 NSG=8,R=2,PF=2,XF32 NSG=2,R=2,PF=2,XF32}"
bash scripts/gpu_frag.sh "$bin" "$out" "${sets[@]}" > "$out/frag_summary.txt" 2>&1
cat "$out/frag_summary.txt"
sed -nE 's/.*"kernel":"matvec_frag","format":"mxfp4","rows":([0-9]+),"cols":([0-9]+),"n":([0-9]+),.*"defines":"([^"]*)","max_diff_rel":([^,]+),.*"us":([0-9.]+),.*/\4 \3 \5 \6/p' \
  "$out/frag.jsonl" > "$out/frag_table.txt"
best=$(awk '{ if ($3 ~ /nan/ || $3 + 0 > 1e-4) bad[$1] = 1;
              if ($2 == 1 || $2 == 4 || $2 == 8) { sum[$1] += $4; cnt[$1]++; if (cnt[$1] > most) most = cnt[$1] } }
            END { for (d in sum) if (!bad[d] && cnt[d] == most) print sum[d], d }' "$out/frag_table.txt" | sort -n | head -1)
echo "best: $best"
[ -z "$best" ] && { echo "no configuration is correct on every shape"; exit 1; }
flags=(--frag-matvec)
for kv in $(echo "${best#* }" | tr ',' ' '); do [ "$kv" != XF32 ] && flags+=(--frag-define "$kv"); done
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/mlxmtp-verify-bench" "${flags[@]}" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/e2e_frag.jsonl" 2>&1
"$bin/mlxmtp-verify-bench" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/e2e_base.jsonl" 2>&1
for f in "$out"/e2e_frag.jsonl "$out"/e2e_base.jsonl; do
  printf '%s: ' "$(basename $f .jsonl)"
  sed -nE 's/.*"what":"decode".*"ms":([0-9.]+).*/decode \1 |/p; s/.*"what":"verify","tokens":([2-9]),"ms":([0-9.]+).*/\1:\2/p; s/.*"k":([1-4]),"tokens_per_round".*"speedup":([0-9.]+).*/s\1=\2/p' "$f" | tr '\n' ' '; echo
done
# A 2048-token prefill: the matmul against the fragment kernel (16 columns per dispatch).
"$bin/mlxmtp-verify-bench" --prefill-only 2048 $cfg mxfp4 > "$out/prefill_base.jsonl" 2>&1
"$bin/mlxmtp-verify-bench" "${flags[@]}" --frag-prefill --prefill-only 2048 $cfg mxfp4 > "$out/prefill_frag.jsonl" 2>&1
grep -h '"what":"prefill"' "$out/prefill_base.jsonl" "$out/prefill_frag.jsonl"
# Where the best configuration's n = 1 time goes (timing-only variants,
# wrong results by design): no x loads / split, no FP4 placement, no lo half.
for diag in DIAG_NO_X DIAG_NO_DECODE DIAG_NO_LO; do
  for shape in "17408 5120" "4096 14336"; do
    "$bin/mlxmtp-kernel-bench" $shape 536870912 0 0 0 0 mxfp4 0 0 1,8 1 3 "${best#* },$diag" >> "$out/frag_diag.jsonl" 2>&1
  done
done
sed -nE 's/.*"kernel":"matvec_frag","format":"mxfp4","rows":([0-9]+),"cols":([0-9]+),"n":([0-9]+),.*"defines":"([^"]*)",.*"us":([0-9.]+),.*/diag [\4] \1x\2 n=\3 \5 us/p' "$out/frag_diag.jsonl"
