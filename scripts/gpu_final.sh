#!/bin/bash
# One-call benchmark set for issues 5 and 6 on the GPU machine (27B shape,
# synthetic weights): copy ceiling, decode and verify/decode ratios (MXFP4,
# bf16), the matvec kernel alone, a 2048-token prefill, a GPU profile.
# Usage (repo root on the GPU machine): scripts/gpu_final.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/vk_ceiling" 1024 > "$out/ceiling.txt" 2>&1; grep -E "GB/s" "$out/ceiling.txt"
"$bin/mlxmtp-verify-bench" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/verify_mxfp4.jsonl" 2>&1
cat "$out/verify_mxfp4.jsonl"
"$bin/mlxmtp-verify-bench" $cfg bf16 1.887 2.496 2.908 3.156 > "$out/verify_bf16.jsonl" 2>&1
grep -E '"decode"|"verify"' "$out/verify_bf16.jsonl" | cut -c1-100
"$bin/mlxmtp-kernel-bench" 4096 14336 536870912 0 2048 > "$out/matvec.jsonl" 2>&1
cut -c1-200 "$out/matvec.jsonl"
for i in 1 2; do  # the second run finds its pipelines in the cache
  "$bin/mlxmtp" generate --synthetic $cfg --format mxfp4 --prompt-len 2048 --max-tokens 2 --ignore-eos --json > "$out/prefill_mxfp4.json"
done
grep -E '"prefill_tok_s"|"prefill_s"' "$out/prefill_mxfp4.json"
"$bin/mlxmtp-verify-bench" --profile $cfg mxfp4 > "$out/profile_mxfp4.jsonl" 2>&1
grep '"what":"profile"' "$out/profile_mxfp4.jsonl"
