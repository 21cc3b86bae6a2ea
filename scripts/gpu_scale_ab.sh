#!/bin/bash
# MX scale bytes read with 8-bit loads (the default where the device has
# 8-bit storage) against 32-bit words and byte extraction
# (verify-bench --scale-words): 27B MXFP4 decode / verify, alternating, twice.
# Usage (repo root on the GPU machine): scripts/gpu_scale_ab.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
for rep in 1 2; do
  "$bin/mlxmtp-verify-bench" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/verify_bytes_$rep.jsonl" 2>&1
  "$bin/mlxmtp-verify-bench" --scale-words $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/verify_words_$rep.jsonl" 2>&1
done
for f in "$out"/verify_*.jsonl; do echo "== $(basename $f)"; grep -E '"decode"|"tokens":[2-9],' "$f" | sed 's/"what"://; s/"weight_bytes".*//' | cut -c1-90 | tr '\n' ' '; echo; done
"$bin/mlxmtp-verify-bench" --profile $cfg mxfp4 > "$out/profile_mxfp4.jsonl" 2>&1
grep '"of":"decode"' "$out/profile_mxfp4.jsonl" | head -6
