#!/bin/bash
# Matvec load unroll for many columns (verify-bench --unroll-from N U)
# against the defaults: 27B MXFP4 verify, twice each.
# Usage (repo root on the GPU machine): scripts/gpu_unroll_ab.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
for rep in 1 2; do
  "$bin/mlxmtp-verify-bench" $cfg mxfp4 > "$out/v_default_$rep.jsonl" 2>&1
  "$bin/mlxmtp-verify-bench" --unroll-from 5 1 $cfg mxfp4 > "$out/v_u1from5_$rep.jsonl" 2>&1
done
for f in "$out"/v_*.jsonl; do echo "== $(basename $f)"; grep -E '"decode"|"tokens":[2-9],' "$f" | sed 's/"what"://; s/"weight_bytes".*//; s/"ratio_to_decode"/r/; s/"verify",//; s/"tokens"://' | cut -c1-40 | tr '\n' ' '; echo; done
