#!/bin/bash
# The full H100 benchmark set (issues 5, 6, 8) on synthetic 27B-shape weights.
# Usage on the GPU machine: scripts/gpu_bench_all.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/vk_ceiling" 1024 > "$out/ceiling.txt" 2>&1; grep -E "GB/s" "$out/ceiling.txt"
for fmt in bf16 mxfp4; do
  "$bin/mlxmtp" generate --synthetic $cfg --format $fmt --prompt-len 16 --max-tokens 64 --ignore-eos --json > "$out/decode_$fmt.json"
  echo "$fmt: $(grep -E '"decode_tok_s"|decode_weight_bytes' "$out/decode_$fmt.json" | tr -d ' \n')"
done
"$bin/mlxmtp" generate --synthetic $cfg --format mxfp4 --prompt-len 2048 --max-tokens 2 --ignore-eos --json > "$out/prefill_mxfp4.json"
echo "prefill: $(grep -E '"prefill_tok_s"' "$out/prefill_mxfp4.json" | tr -d ' \n')"
# Trained-model tokens per round for k = 1..4 (tests/fixtures, greedy, 27 cases).
"$bin/mlxmtp-verify-bench" $cfg mxfp4 1.887 2.496 2.908 3.156 | tee "$out/verify_mxfp4.jsonl"
for fmt in mxfp4 bf16; do
  "$bin/mlxmtp" bench --synthetic $cfg --format $fmt --draft 1,2,3,4 --ceiling --prompt-lengths 64 \
    --max-tokens 64 --repeat 2 --warmup 1 --out "$out/bench_$fmt.json"
done
