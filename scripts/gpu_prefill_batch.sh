#!/bin/bash
# Prefill speed against the forward chunk size (session max_batch) on the GPU
# machine: a 2048-token MXFP4 prompt at 64 (twice: the first run compiles),
# 128, 256 and 512 tokens per chunk, and the matmul kernel at those T.
# Usage (repo root on the GPU machine): bash scripts/gpu_prefill_batch.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
for mb in 64 64 128 256 512; do
  "$bin/mlxmtp" generate --synthetic $cfg --format mxfp4 --prompt-len 2048 --max-tokens 2 --ignore-eos --json --max-batch $mb > "$out/prefill_mb$mb.json"
  echo "max_batch $mb: $(grep -E '"prefill_tok_s"' "$out/prefill_mb$mb.json" | tr -d ' \n')"
done
"$bin/mlxmtp-kernel-bench" 5120 17408 536870912 0 64,256,512,2048 0 0 mxfp4 > "$out/matmul.jsonl" 2>&1
grep matmul "$out/matmul.jsonl"
