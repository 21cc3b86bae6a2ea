#!/bin/bash
# Decode / verify with the default matvec rows per subgroup against a fixed
# ROWS (verify-bench --matvec-rows), twice each in one call.
# Usage (repo root on the GPU machine): scripts/gpu_rows_ab.sh BIN_DIR OUT_DIR ROWS
set -u
bin=$1; out=$2; rows=$3
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
for rep in 1 2; do
  "$bin/mlxmtp-verify-bench" $cfg mxfp4 > "$out/verify_default_$rep.jsonl" 2>&1
  "$bin/mlxmtp-verify-bench" --matvec-rows $rows $cfg mxfp4 > "$out/verify_rows${rows}_$rep.jsonl" 2>&1
  for f in default rows$rows; do echo "== $f $rep"; grep -E '"decode"|"tokens":[23],' "$out/verify_${f}_$rep.jsonl" | cut -c1-100; done
done
"$bin/mlxmtp-verify-bench" --matvec-rows $rows $cfg bf16 > "$out/verify_bf16_rows$rows.jsonl" 2>&1
"$bin/mlxmtp-verify-bench" $cfg bf16 > "$out/verify_bf16_default.jsonl" 2>&1
grep -H '"decode"' "$out"/verify_bf16_*.jsonl | cut -c1-160
