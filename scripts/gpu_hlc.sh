#!/bin/bash
# One GPU call (~3 min): matvec_frag with x's hi / lo halves as adjacent B
# columns (HLC=1, 4 tokens per column group, one multiply-add per A tile)
# against two multiply-adds per A tile (HLC=0, 8 tokens per group): the
# kernel sweep over column counts that cross both group sizes
# (scripts/gpu_frag.sh), then the 27B MXFP4 decode / verify / draft end to
# end (mlxmtp-verify-bench) for the default path and the tensor-core path in
# both forms.
# Usage (repo root on the GPU machine): scripts/gpu_hlc.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
FRAG_SHAPES="${FRAG_SHAPES:-17408 5120;4096 14336}" FRAG_NS="${FRAG_NS:-1,2,4,5,8,9,12,16}" \
  bash scripts/gpu_frag.sh "$bin" "$out" ${HLC_SETS:-HLC=0,XF32 HLC=1,XF32 HLC=1,R=1,XF32} > "$out/frag_summary.txt" 2>&1
cat "$out/frag_summary.txt"
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/mlxmtp-verify-bench" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/e2e_base.jsonl" 2>&1
"$bin/mlxmtp-verify-bench" --frag-matvec $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/e2e_hlc1.jsonl" 2>&1
"$bin/mlxmtp-verify-bench" --frag-matvec --frag-define HLC=0 $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/e2e_hlc0.jsonl" 2>&1
for f in "$out"/e2e_base.jsonl "$out"/e2e_hlc1.jsonl "$out"/e2e_hlc0.jsonl; do
  printf '%s: ' "$(basename $f .jsonl)"
  sed -nE 's/.*"what":"decode".*"ms":([0-9.]+).*/decode \1 |/p; s/.*"what":"verify","tokens":([0-9]+),"ms":([0-9.]+),"ratio_to_decode":([0-9.]+).*/\1:\2(\3)/p; s/.*"what":"draft".*"ms":([0-9.]+).*/draft \1/p; s/.*"k":([1-4]),"tokens_per_round".*"speedup":([0-9.]+).*/s\1=\2/p' "$f" | tr '\n' ' '; echo
done
