#!/bin/bash
# The issue-5 benchmark on the GPU machine: copy ceiling, matvec kernel alone,
# 27B-shape decode (bf16, MXFP4) and a 2048-token prefill, synthetic weights.
# Usage (from the repo root on the GPU machine): scripts/gpu_bench_text.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/vk_ceiling" 1024 > "$out/ceiling.txt" 2>&1; grep -E "GB/s" "$out/ceiling.txt"
"$bin/mlxmtp-kernel-bench" 4096 14336 536870912 0 2048 | tee "$out/matvec.jsonl"
for fmt in bf16 mxfp4; do
  "$bin/mlxmtp" generate --synthetic $cfg --format $fmt --prompt-len 16 --max-tokens 64 --ignore-eos --json > "$out/decode_$fmt.json"
  grep -E "decode_tok_s|prefill_tok_s|decode_weight_bytes" "$out/decode_$fmt.json"
done
"$bin/mlxmtp" generate --synthetic $cfg --format mxfp4 --prompt-len 2048 --max-tokens 2 --ignore-eos --json > "$out/prefill_mxfp4.json"
grep -E "prefill_tok_s|prefill_s" "$out/prefill_mxfp4.json"
