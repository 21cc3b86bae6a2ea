#!/bin/bash
# Third GPU call of the hi / lo column form: the 27B MXFP4 decode / verify /
# draft end to end (mlxmtp-verify-bench) for the default path and the
# tensor-core path under its defaults and under overrides (E2E_SETS), then a
# 2048-token prefill by the matmul and by the fragment kernel at 8 and 16
# columns per dispatch, with the copy ceiling.
# Usage (repo root on the GPU machine): scripts/gpu_hlc3.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/vk_ceiling" > "$out/ceiling.txt" 2>&1; tail -1 "$out/ceiling.txt"
summary() {
  printf '%s: ' "$1"
  sed -nE 's/.*"what":"decode".*"ms":([0-9.]+).*/decode \1 |/p; s/.*"what":"verify","tokens":([0-9]+),"ms":([0-9.]+),"ratio_to_decode":([0-9.]+).*/\1:\2(\3)/p; s/.*"what":"draft","k":1,"ms":([0-9.]+).*/draft1 \1/p; s/.*"k":([1-8]),"tokens_per_round".*"speedup":([0-9.]+).*/s\1=\2/p' "$2" | tr '\n' ' '; echo
}
"$bin/mlxmtp-verify-bench" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/e2e_base.jsonl" 2>&1
summary base "$out/e2e_base.jsonl"
for o in default ${E2E_SETS:-PF=3 NSG=4 PF=4}; do
  flags=(--frag-matvec); [ "$o" != default ] && for kv in $(echo $o | tr ',' ' '); do flags+=(--frag-define "$kv"); done
  f="$out/e2e_frag_$(echo $o | tr ',=' '_-').jsonl"
  "$bin/mlxmtp-verify-bench" "${flags[@]}" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$f" 2>&1
  summary "frag $o" "$f"
done
[ "${PREFILL:-1}" = 0 ] && exit 0
"$bin/mlxmtp-verify-bench" --prefill-only 2048 $cfg mxfp4 > "$out/prefill_base.jsonl" 2>&1
"$bin/mlxmtp-verify-bench" --frag-matvec --prefill-only 2048 $cfg mxfp4 > "$out/prefill_frag8.jsonl" 2>&1
"$bin/mlxmtp-verify-bench" --frag-matvec --frag-prefill-cols 16 --prefill-only 2048 $cfg mxfp4 > "$out/prefill_frag16.jsonl" 2>&1
grep -H '"what":"prefill"' "$out"/prefill_*.jsonl
